import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// `run benefit` on the real kernel: the states are what they say, and the
/// host is left as it was. Speed is never asserted (scripts/bench prints it).
@Suite struct BenefitKernelTests {
    func pages(_ state: [String: Any]) -> (pmd: Int, pteThp: Int, mthp: Int, small: Int) {
        let p = state["pages"] as? [String: Any] ?? [:]
        return (p["pmd"] as? Int ?? -1, p["pte_thp"] as? Int ?? -1, p["mthp"] as? Int ?? -1, p["small"] as? Int ?? -1)
    }

    @Test(arguments: ["anon", "shmem", "tmpfs"])
    func everyStateIsWhatItSays(memory: String) throws {
        let json = try Thplab.runJSON(["run", "benefit", "--memory", memory, "--size", "64M", "--rounds", "2", "--round-seconds", "0.05"])
        let states = json["states"] as? [[String: Any]] ?? []
        #expect(states.map { $0["state"] as? String ?? "" } == ["small", "pte-mapped", "pmd"])
        let all = 64 * 256
        for s in states {
            let name = s["state"] as? String ?? "", p = pages(s)
            #expect(s["held"] as? Bool == true, "\(name): \(p) (\(s["how"] ?? ""))")
            switch name {
            case "small": #expect(p.pmd == 0 && p.pteThp == 0 && p.mthp == 0 && p.small == all, "\(p)")
            case "pte-mapped": #expect(p.pmd == 0 && p.pteThp * 100 >= all * 95, "huge folios mapped by PTEs: \(p)")
            default: #expect(p.pmd * 100 >= all * 95, "PMD-mapped: \(p)")
            }
            // Figures exist for every state that held; their values are the bench's business.
            #expect((s["chase"] as? [String: Any])?["median_ns"] is Double && (s["stream"] as? [String: Any])?["median_ns"] is Double)
            // dTLB misses per load exactly where the CPU's counters are there.
            #expect((s["dtlb_misses_per_load"] is Double) == HardwarePMU.present, "\(name): PMU present: \(HardwarePMU.present)")
        }
        #expect((json["pmu"] as? String ?? "").hasPrefix("no hardware PMU") == !HardwarePMU.present, "\(json["pmu"] ?? "")")
        #expect(json["ok"] as? Bool == true, "\(json["differences"] ?? "")")
    }

    /// An mTHP size as a state of its own: only folios of that size, and
    /// the policies set to fault it put back.
    @Test(arguments: ["anon", "shmem"])
    func anMthpStateHoldsOnlyItsSize(memory: String) throws {
        let json = try Thplab.runJSON(["run", "benefit", "--memory", memory, "--mthp", "64K", "--size", "16M", "--rounds", "2", "--round-seconds", "0.05"])
        let states = json["states"] as? [[String: Any]] ?? []
        #expect(states.map { $0["state"] as? String ?? "" } == ["small", "mthp-64kB", "pte-mapped", "pmd"])
        let m = try #require(states.first { $0["state"] as? String == "mthp-64kB" })
        #expect((m["pages"] as? [String: Any])?["mthp_sizes_kb"] as? [String: Int] == ["64": 16 * 256], "\(m["pages"] ?? "")")
        #expect(m["held"] as? Bool == true && json["ok"] as? Bool == true)
        let changed = (json["knobs_changed"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(changed.contains("hugepages-64kB/\(memory == "anon" ? "enabled" : "shmem_enabled")"), "\(changed)")
    }

    @Test func aSizeAboveWhatIsAvailableIsRefused() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        // More than the machine has: every state needs its own copy, and one alone is larger than memory.
        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let totalKB = try #require(meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }?.split(separator: " ").dropFirst().first.flatMap { Int($0) })
        let r = try Thplab.run(["run", "benefit", "--size", "\(totalKB >> 20 + 2)G"])
        #expect(r.status == 2 && r.stderr.contains("choose a smaller --size"), "\(r.status) \(r.stderr)")
        host.expectRestored()
    }

    /// shmem_enabled=deny makes no shmem huge page: nothing to compare.
    @Test func shmemThatCannotBeHugeIsRefused() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(["knobs", "set", "shmem_enabled=deny", "--", Thplab.binary, "run", "benefit", "--memory", "shmem", "--size", "16M"])
        #expect(r.status == 3 && r.stderr.contains("shmem_enabled is deny"), "\(r.status) \(r.stderr)")
        host.expectRestored()
    }
}
}
