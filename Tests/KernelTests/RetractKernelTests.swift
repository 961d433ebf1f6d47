import Foundation
import Testing
@testable import THPLab

/// `thplab run retract` on the machine's own kernel. Serialized: THP knobs
/// are global. Every run is bounded, and every test checks that the host is
/// left exactly as it was found.
extension KernelSuite {
@Suite struct RetractKernelTests {
    typealias Row = RetractRows.Row
    func rows(_ json: [String: Any]) -> [Row] { RetractRows.rows(json) }

    /// Runs thplab with `--json -` and checks the host is as it was.
    func run(_ args: [String], expectStatus: Int32 = 0, timeout: Double = 120) throws -> [String: Any] {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        let host = HostSnapshot()
        let r = try Thplab.run(["run", "retract"] + args + ["--json", "-"], timeout: timeout)
        #expect(!r.timedOut, "thplab run retract \(args) did not finish in \(timeout) s")
        #expect(r.status == expectStatus, "exit \(r.status), stderr: \(r.stderr)")
        host.expectRestored()
        return try r.json()
    }

    func context(_ json: [String: Any]) throws -> ExpectationContext { try RetractRows.context(json) }
    func expected(_ row: Row, _ c: ExpectationContext) throws -> String { try RetractRows.expected(row, c) }

    /// The outcome every role must show once the object collapsed, as the
    /// expectation model predicts it for the running kernel; the page counts
    /// that prove each state hold on every kernel.
    func assertRetractOutcome(_ json: [String: Any], trigger: String, processes: Int = 2) throws {
        let c = try context(json)
        let all = rows(json)
        #expect(all.count == processes * 4)
        #expect(Set(all.map(\.pid)).count == processes)
        for row in all {
            #expect(row.state("populated") == "pte-mapped", "\(row.role) should start on small pages")
            #expect(row.kb("populated", "thp_kb") == 0, "\(row.role) populated with a THP")
            #expect(row.classes("populated")["small"] == 4096, "\(row.role) should start on small pages")
            #expect(row.kb("populated", "rss_kb") == 4096)
            let want = try expected(row, c)
            #expect(row.state("refaulted") == want, "\(row.role) pid \(row.pid) on \(c.kernel)")
            #expect(row.kb("refaulted", "pmd_mapped_kb") == (want == "pmd-mapped" ? 4096 : 0) || row.role == "private-written",
                    "\(row.role) pid \(row.pid): \(row.kb("refaulted", "pmd_mapped_kb")) kB PMD-mapped, expected \(want)")
            switch row.role {
            case "shared", "private-clean":
                // collapse_file() unmaps the old pages from every mapping.
                let afterCollapse = row.triggerMapping ? "pmd-mapped" : "not-resident"
                #expect(row.state("collapsed") == afterCollapse, "\(row.role) pid \(row.pid) after collapse")
            case "private-written":
                #expect(row.state("collapsed") == "pte-mapped")
                #expect(row.kb("collapsed", "rss_kb") == 4, "only the copy-on-write page stays")
                #expect(row.kb("collapsed", "anon_kb") == 4)
                // Proof that the huge folio exists and is mapped by PTEs here:
                // the extent holding the anonymous page is never PMD-mapped.
                #expect(row.kb("refaulted", "pte_mapped_thp_kb") >= 2044)
                #expect(row.kb("refaulted", "pmd_mapped_kb") <= 2048)
                let classes = row.classes("refaulted")
                #expect((classes["pte_thp"] ?? 0) >= 2044, "private-written must show pte-thp: \(classes)")
                #expect(classes["small"] == 4, "only the copy-on-write page is small: \(classes)")
            case "misaligned":
                #expect(row.state("collapsed") == "not-resident")
                #expect(row.kb("refaulted", "thp_kb") == 4096)
                let classes = row.classes("refaulted")
                #expect((classes["pte_thp"] ?? 0) + (classes["small"] ?? 0) == 4096, "misaligned: pte-thp or small: \(classes)")
            default:
                Issue.record("unknown role \(row.role)")
            }
        }
        #expect(json["ok"] as? Bool == true, "differences: \(json["differences"] ?? "")")
        #expect(json["trigger"] as? String == trigger)
        #expect((json["knobs_before"] as? [String: String]) == (json["knobs_after"] as? [String: String]))
    }

    @Test(arguments: ["memfd", "tmpfs"])
    func madviseTrigger(backing: String) throws {
        let json = try run(["--backing", backing])
        try assertRetractOutcome(json, trigger: "madvise")
        let calls = json["trigger_calls"] as? [[String: Any]] ?? []
        let outcomes = calls.compactMap { $0["outcome"] as? [String: Any] }
        #expect(outcomes.map { $0["role"] as? String } == ["shared", "private-written"])
        #expect(outcomes.first?["errno"] as? Int == 0)
        #expect(outcomes.last?["errno_name"] as? String == "EINVAL")
        let deltas = (json["deltas"] as? [String: Any])?["vmstat"] as? [String: Int]
        #expect(deltas?["thp_collapse_alloc"] == 2)
    }

    @Test(arguments: ["memfd", "tmpfs"])
    func khugepagedTrigger(backing: String) throws {
        let json = try run(["--backing", backing, "--trigger", "khugepaged", "--timeout", "60"])
        try assertRetractOutcome(json, trigger: "khugepaged")
        let wait = try #require(json["khugepaged"] as? [String: Any])
        #expect(wait["extents_collapsed"] as? Int == 2)
        #expect(wait["visited"] as? Bool == true)
        #expect((wait["collapse_events"] as? Int ?? 0) >= 2)
        #expect(wait["last_collapse_seconds"] is Double, "the wait ended because every extent collapsed")
        let changed = (json["knobs_changed"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(changed.contains("khugepaged/scan_sleep_millisecs"))
    }

    @Test func singleMadviseNeverPutsTheProcessOnKhugepagedsList() throws {
        let json = try run(["--trigger", "khugepaged", "--madvise-times", "1", "--timeout", "4"])
        let wait = try #require(json["khugepaged"] as? [String: Any])
        #expect(wait["extents_collapsed"] as? Int == 0)
        #expect(wait["scan_events"] as? Int == 0)
        #expect(wait["visited"] as? Bool == false)
        #expect((json["collapse_blocker"] as? String)?.contains("khugepaged_enter_vma") == true)
        #expect(json["ok"] as? Bool == true)
        for row in rows(json) { #expect(row.state("refaulted") == "pte-mapped") }
    }

    @Test func shmBackingIsExplained() throws {
        // /dev/shm's huge= decides for khugepaged; MADV_COLLAPSE ignores it.
        let k = try run(["--backing", "shm", "--trigger", "khugepaged", "--timeout", "3"])
        let obj = try #require(k["object"] as? [String: Any])
        let name = try #require(obj["name"] as? String)
        #expect(obj["mount_huge"] as? String == MountTable.hugeOption(of: "/dev/shm") ?? "never")
        let blocker = ExpectationModel.collapseBlocker(try context(k))
        #expect(k["collapse_blocker"] as? String == blocker)
        let collapsed = (k["khugepaged"] as? [String: Any])?["extents_collapsed"] as? Int
        #expect(collapsed == (blocker == nil ? 2 : 0), "blocker: \(blocker ?? "none")")
        #expect(k["ok"] as? Bool == true, "differences: \(k["differences"] ?? "")")
        let m = try run(["--backing", "shm"])
        try assertRetractOutcome(m, trigger: "madvise")
        #expect(!FileManager.default.fileExists(atPath: name), "\(name) left behind")
    }

    @Test func fileBackingIsExplained() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let json = try run(["--backing", "file", "--dir", dir])
        let blocker = try #require(ExpectationModel.collapseBlocker(try context(json)), "a written file never collapses")
        #expect(json["collapse_blocker"] as? String == blocker)
        let first = (json["trigger_calls"] as? [[String: Any]])?.first?["outcome"] as? [String: Any]
        #expect(first?["errno_name"] as? String == "EINVAL")
        for row in rows(json) { #expect(row.kb("refaulted", "pmd_mapped_kb") == 0) }
        #expect(json["ok"] as? Bool == true)
        let leftovers = (try FileManager.default.contentsOfDirectory(atPath: dir)).filter { $0.contains("thplab-") && $0.hasSuffix("-object") }
        #expect(leftovers.isEmpty)
    }

    @Test(arguments: ["madvise", "khugepaged"])
    func nohugepageMappingFollowsTheKernelsFaultRule(trigger: String) throws {
        let json = try run(["--nohugepage", "--trigger", trigger])
        let rows = rows(json).filter { $0.role == "nohugepage" }
        #expect(rows.count == 2)
        for row in rows {
            #expect(row.state("collapsed") == "not-resident")
            #expect(row.state("refaulted") == (try expected(row, try context(json))), "the model's nohugepage rule")
            #expect(row.kb("refaulted", "thp_kb") == 4096, "the huge folio, mapped by PTEs")
        }
        #expect(json["ok"] as? Bool == true)
    }

    @Test(arguments: ["madvise", "khugepaged"])
    func uffdWpMappingKeepsItsPageTable(trigger: String) throws {
        let json = try run(["--uffd-wp", "--trigger", trigger])
        let rows = rows(json).filter { $0.role == "uffd-wp" }
        #expect(rows.count == 2)
        for row in rows {
            #expect(row.state("refaulted") == "pte-mapped", "retract_page_tables() skips a uffd-wp VMA")
            #expect(row.kb("refaulted", "thp_kb") == 4096)
        }
        #expect(json["ok"] as? Bool == true)
    }

    @Test func moreProcessesAndNoMisaligned() throws {
        let json = try run(["--processes", "3", "--no-misaligned", "--cow-pages", "3"])
        let all = rows(json)
        #expect(all.count == 9)
        #expect(!all.contains { $0.role == "misaligned" })
        for row in all where row.role == "private-written" { #expect(row.kb("collapsed", "anon_kb") == 12) }
        #expect(json["ok"] as? Bool == true)
    }
}
}
