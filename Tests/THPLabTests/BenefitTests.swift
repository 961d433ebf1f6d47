import Foundation
import Testing
@testable import THPLab

/// `run benefit`'s pure parts: the chain, the states' test on page
/// classes, the figures and when a difference is measurable.
@Suite struct BenefitTests {
    /// The chain visits every page once and comes back to the start.
    @Test func theChainIsOneCycleThroughEveryPage() throws {
        let pages = 1024
        let chain = AccessChain(pages: pages)
        let region = try MappedRegion(anonymousLength: pages * PageGeometry.pageSize)
        chain.write(into: region)
        let base = try #require(UnsafeRawPointer(bitPattern: region.start))
        var at = chain.start, visited = Set<Int>()
        for _ in 0..<pages {
            #expect(Int(at) % PageGeometry.pageSize == (Int(at) / PageGeometry.pageSize % 64) * 64, "a page's slot")
            visited.insert(Int(at) / PageGeometry.pageSize)
            at = base.load(fromByteOffset: Int(at), as: UInt64.self)
        }
        #expect(visited.count == pages)
        #expect(at == chain.start)
        // The chase kernel follows the same path.
        #expect(Sys.chase(base: region.start, start: chain.start, steps: UInt64(pages)).end == chain.start)
        #expect(Sys.chase(base: region.start, start: chain.start, steps: 1).end != chain.start)
    }

    /// What counts as each state, on classes of real 1 GiB runs.
    @Test func statesAreJudgedOnTheirPages() {
        let all = 262_144
        var small = ClassCounts(); small.small = all
        var pmd = ClassCounts(); pmd.pmd = all
        var pte = ClassCounts(); pte.pteThp = all
        var mostlyPmd = ClassCounts(); mostlyPmd.pmd = all * 96 / 100; mostlyPmd.small = all - mostlyPmd.pmd
        var halfPmd = ClassCounts(); halfPmd.pmd = all / 2; halfPmd.small = all / 2
        var oneHuge = ClassCounts(); oneHuge.small = all - 512; oneHuge.pteThp = 512
        #expect(AccessState.small.holds(small) && !AccessState.small.holds(oneHuge) && !AccessState.small.holds(pmd))
        #expect(AccessState.pmd.holds(pmd) && AccessState.pmd.holds(mostlyPmd) && !AccessState.pmd.holds(halfPmd) && !AccessState.pmd.holds(pte))
        #expect(AccessState.pteMapped.holds(pte) && !AccessState.pteMapped.holds(pmd) && !AccessState.pteMapped.holds(small))
        #expect(!AccessState.small.holds(ClassCounts()), "no page at all is no state")
    }

    @Test func figuresAreMediansWithTheirRange() throws {
        let f = try #require(AccessFigure.of([380, 366, 389, 375, 371]))
        #expect(f == AccessFigure(medianNs: 375, minNs: 366, maxNs: 389))
        #expect(AccessFigure.of([2, 4]) == AccessFigure(medianNs: 3, minNs: 2, maxNs: 4))
        #expect(AccessFigure.of([]) == nil)
        let huge = try #require(AccessFigure.of([237, 240, 236]))
        #expect(huge.speedup(over: f) == 1.58)
        #expect(!huge.overlaps(f))
        let close = try #require(AccessFigure.of([370, 388, 379]))
        #expect(close.overlaps(f) && f.overlaps(close))
    }

    @Test func badSizesAreRefusedWithTheReason() {
        var o = BenefitOptions()
        o.size = 3 << 20
        #expect { try o.validate(room: nil) } throws: { "\($0)".contains("multiple of 2 MiB") }
        o.size = 8 << 30
        #expect { try o.validate(room: MemoryRoom(kb: 16 << 20, source: "MemAvailable")) } throws: {
            "\($0)".contains("needs about 24640 MiB (3 copies") && "\($0)".contains("choose a smaller --size")
        }
        o.memory = .shmem
        #expect(throws: Never.self) { try o.validate(room: MemoryRoom(kb: 17 << 20, source: "MemAvailable")) }
        o.rounds = 0
        #expect { try o.validate(room: nil) } throws: { "\($0)".contains("--rounds") }
    }

    /// The report says a difference is not measurable when the rounds overlap.
    @Test func theReportDoesNotQuoteAnOverlap() {
        let small = AccessFigure(medianNs: 375, minNs: 366, maxNs: 389), pmd = AccessFigure(medianNs: 237, minNs: 236, maxNs: 240)
        let streamSmall = AccessFigure(medianNs: 1.0, minNs: 0.9, maxNs: 1.2), streamPmd = AccessFigure(medianNs: 0.98, minNs: 0.9, maxNs: 1.1)
        func state(_ s: AccessState, _ c: AccessFigure, _ st: AccessFigure) -> BenefitState {
            BenefitState(state: s, how: "", pages: ClassCounts(), held: true, chase: c, stream: st,
                         chaseSpeedup: c.speedup(over: small), streamSpeedup: st.speedup(over: streamSmall),
                         chaseMeasurable: s == .small ? nil : !c.overlaps(small), streamMeasurable: s == .small ? nil : !st.overlaps(streamSmall))
        }
        let r = BenefitResult(kernelRelease: "6.18", options: BenefitOptions(), chaseSteps: 1, streamPasses: 1,
                              states: [state(.small, small, streamSmall), state(.pmd, pmd, streamPmd)], pmu: "none",
                              knobsBefore: [:], knobsAfter: [:], knobsChanged: [], ok: true, differences: [], notes: [], hypervisor: nil)
        let text = BenefitTextReport.render(r)
        #expect(text.contains("random chase over 1 GiB: PMD-mapped is 1.58x faster than small pages (237.0 vs 375.0 ns per load)"), "\(text)")
        #expect(text.contains("sequential stream: PMD-mapped and small pages are not apart here"), "\(text)")
        #expect(text.contains("1.02x (not measurable here)"), "\(text)")
    }
}

extension BenefitTests {
    /// The 4 GiB figures of this VM (KVM): PTE-mapped huge folios measurably
    /// slower than small pages in chase and stream get the note; the 1 GiB
    /// ones (overlapping) and bare metal do not.
    @Test func aSlowerPteMappedStateIsExplainedUnderAHypervisor() {
        func states(_ chase: AccessFigure, _ stream: AccessFigure) -> [BenefitState] {
            let small = AccessFigure(medianNs: 386.2, minNs: 379.5, maxNs: 401.5), smallStream = AccessFigure(medianNs: 4.3, minNs: 4.2, maxNs: 5.3)
            return [BenefitState(state: .pteMapped, how: "", pages: ClassCounts(), held: true, chase: chase, stream: stream,
                                 chaseSpeedup: chase.speedup(over: small), streamSpeedup: stream.speedup(over: smallStream),
                                 chaseMeasurable: !chase.overlaps(small), streamMeasurable: !stream.overlaps(smallStream))]
        }
        let slow = states(AccessFigure(medianNs: 585.9, minNs: 566.7, maxNs: 611.5), AccessFigure(medianNs: 7.3, minNs: 6.2, maxNs: 7.7))
        let even = states(AccessFigure(medianNs: 390, minNs: 380, maxNs: 410), AccessFigure(medianNs: 4.4, minNs: 4.3, maxNs: 4.6))
        #expect(BenefitExperiment.slowerThanSmallNote(slow, hypervisor: "KVMKVMKVM")?.contains("CPUID KVMKVMKVM") == true)
        #expect(BenefitExperiment.slowerThanSmallNote(slow, hypervisor: "") == nil)
        #expect(BenefitExperiment.slowerThanSmallNote(even, hypervisor: "KVMKVMKVM") == nil)
    }
}

extension BenefitTests {
    @Test func statesAreNamedInJSONAsInTheReport() throws {
        let states = AccessState.planned(mthpKB: [64, 16])
        #expect(states.map(\.rawValue) == ["small", "mthp-16kB", "mthp-64kB", "pte-mapped", "pmd"])
        #expect(states.allSatisfy { AccessState(rawValue: $0.rawValue) == $0 })
        #expect(AccessState(rawValue: "mthp-kB") == nil && AccessState(rawValue: "huge") == nil)
        let json = String(decoding: try JSONEncoder().encode(states), as: UTF8.self)
        #expect(json == #"["small","mthp-16kB","mthp-64kB","pte-mapped","pmd"]"#)
        #expect(try JSONDecoder().decode([AccessState].self, from: Data(json.utf8)) == states)
    }

    /// An mTHP state holds folios of its own size only.
    @Test func anMthpStateHoldsItsSizeOnly() {
        var c = ClassCounts(); c.mthp = 4096; c.mthpSizes = ["64": 4096]
        #expect(AccessState.mthp(64).holds(c) && !AccessState.mthp(16).holds(c) && !AccessState.small.holds(c))
        c.mthpSizes = ["64": 2048, "16": 2048]
        #expect(!AccessState.mthp(64).holds(c))
    }

    /// The sizes measured: those the policies enable, or those asked for if
    /// the kernel offers them; tmpfs has none (from 6.18's knobs).
    @Test func mthpSizesComeFromThePoliciesOrAreRefused() throws {
        let knobs = ["enabled": "madvise", "shmem_enabled": "never", "hugepages-16kB/enabled": "always", "hugepages-64kB/enabled": "inherit",
                     "hugepages-32kB/enabled": "never", "hugepages-2048kB/enabled": "inherit", "hugepages-64kB/shmem_enabled": "never",
                     "hugepages-2048kB/shmem_enabled": "inherit"]
        let p = MthpPolicies(values: knobs)
        var o = BenefitOptions()
        #expect(try o.mthpSizes(p) == [16, 64])
        o.memory = .shmem
        #expect(try o.mthpSizes(p) == [])
        o.mthpKB = [64]
        #expect(try o.mthpSizes(p) == [64])
        o.mthpKB = [48]
        #expect { try o.mthpSizes(p) } throws: { "\($0)".contains("offers no 48 kB size for shmem (it offers 64K)") }
        o.memory = .tmpfs
        o.mthpKB = [64]
        #expect { try o.mthpSizes(p) } throws: { "\($0)".contains("--mthp is for anon and shmem") }
    }
}
