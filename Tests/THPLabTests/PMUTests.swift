import Foundation
import Testing
@testable import THPLab

/// The hardware counters `run benefit` asks for: the event table against
/// the kernel's own UAPI values, the CPU read from a real /proc/cpuinfo,
/// which CPUs get a page-walk event, and what the report says in each case.
@Suite struct PMUTests {
    @Test func theEventTableIsTheKernelsABI() {
        let abi = Sys.perfABI()
        #expect(UInt64(PerfEvent.typeSoftware) == abi[0] && UInt64(PerfEvent.typeHardwareCache) == abi[1] && UInt64(PerfEvent.typeRaw) == abi[2])
        #expect(PerfEvent.dtlbLoadMisses.type == PerfEvent.typeHardwareCache && PerfEvent.dtlbLoadMisses.config == abi[3])
        #expect(PerfEvent.pageFaults.config == abi[4] && PerfEvent.taskClock.config == abi[5])
        // DTLB_LOAD_MISSES.WALK_ACTIVE: event, umask 0x10 in bits 8-15, cmask 1 in bits 24-31.
        #expect(PerfEvent.intelLoadWalkCycles(eventCode: 0x12).config == 0x0100_1012)
    }

    @Test func theCPUIsReadFromCpuinfo() throws {
        let cpu = HardwarePMU.CPU(cpuinfo: try Fixture.text("cpuinfo-cpu0-6.18.txt"))
        #expect(cpu == HardwarePMU.CPU(vendor: "GenuineIntel", family: 6, model: 207))
        #expect(HardwarePMU.CPU(cpuinfo: "processor\t: 0\n") == nil && HardwarePMU.CPU(cpuinfo: nil) == nil)
    }

    /// This machine's Emerald Rapids (model 207) counts walks with event
    /// 0x12, Skylake with 0x08; AMD and unknown models get none, and say so.
    @Test func pageWalkCyclesOnlyWhereTheEventIsKnown() {
        #expect(HardwarePMU.walkCycles(.init(vendor: "GenuineIntel", family: 6, model: 207))?.config == 0x0100_1012)
        #expect(HardwarePMU.walkCycles(.init(vendor: "GenuineIntel", family: 6, model: 0x55))?.config == 0x0100_1008)
        #expect(HardwarePMU.walkCycles(.init(vendor: "AuthenticAMD", family: 25, model: 1)) == nil)
        #expect(HardwarePMU.walkCycles(.init(vendor: "GenuineIntel", family: 6, model: 0x1C)) == nil)
        #expect(HardwarePMU.benefitEvents(nil) == [.dtlbLoadMisses])
    }

    @Test func theNoteSaysWhatWasCountedAndWhatNot() {
        #expect(HardwarePMU.benefitNote(present: false).hasPrefix("no hardware PMU here"))
        let intel = HardwarePMU.CPU(vendor: "GenuineIntel", family: 6, model: 207)
        let walk = HardwarePMU.walkCycles(intel)!
        #expect(HardwarePMU.benefitNote(present: true, counting: [.dtlbLoadMisses, walk], cpu: intel)
                == "counted per load of the chase: dTLB-load-misses, dtlb_load_misses.walk_active")
        let amd = HardwarePMU.CPU(vendor: "AuthenticAMD", family: 25, model: 1)
        #expect(HardwarePMU.benefitNote(present: true, counting: [.dtlbLoadMisses], refused: [], cpu: amd)
                == "counted per load of the chase: dTLB-load-misses; page-walk cycles have no generic event, and thplab does not know this CPU's own one (AuthenticAMD family 25 model 1)")
        #expect(HardwarePMU.benefitNote(present: true, refused: [(walk, .noSuchFileOrDirectory)], cpu: intel)
                == "the kernel would not open dtlb_load_misses.walk_active (ENOENT)")
    }

    /// Counted figures get their columns; without them the table is as before.
    @Test func theReportShowsCountersOnlyWhenCounted() throws {
        var r = try Fixture.result("result-benefit-6.18.json", as: BenefitResult.self)
        #expect(!BenefitTextReport.render(r).contains("dTLB MISSES/load"))
        r.states[0].dtlbMissesPerLoad = 0.98
        r.states[0].walkCyclesPerLoad = 41.5
        let text = BenefitTextReport.render(r)
        #expect(text.contains("dTLB MISSES/load  WALK CYCLES/load") && text.contains("0.98") && text.contains("41.5"), "\(text)")
        let html = HTMLBenefit.render(r)
        #expect(html.contains("dTLB misses/load") && html.contains("<td>41.5</td>"))
    }
}
