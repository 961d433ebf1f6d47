import Foundation
import Testing

/// `thplab run retract` on the machine's own kernel. Serialized: THP knobs
/// are global. Every run is bounded, and every test checks that the host is
/// left exactly as it was found.
extension KernelSuite {
@Suite struct RetractKernelTests {
    struct Row {
        var role: String
        var pid: Int
        var triggerMapping: Bool
        var phases: [String: [String: Any]]
        func state(_ phase: String) -> String? { phases[phase]?["state"] as? String }
        func kb(_ phase: String, _ key: String) -> Int { phases[phase]?[key] as? Int ?? -1 }
        func classes(_ phase: String) -> [String: Int] { phases[phase]?["classes_kb"] as? [String: Int] ?? [:] }
    }

    func rows(_ json: [String: Any]) -> [Row] {
        (json["mappings"] as? [[String: Any]] ?? []).map {
            Row(role: $0["role"] as? String ?? "", pid: $0["pid"] as? Int ?? 0,
                triggerMapping: $0["trigger_mapping"] as? Bool ?? false,
                phases: $0["phases"] as? [String: [String: Any]] ?? [:])
        }
    }

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

    /// The outcome every role must show on a 6.6+ kernel once the object
    /// collapsed: measured on 6.18 (see docs/kernel-behaviour.md).
    func assertRetractOutcome(_ json: [String: Any], trigger: String) {
        let all = rows(json)
        #expect(all.count == 8)  // 2 processes x 4 roles
        #expect(Set(all.map(\.pid)).count == 2)
        for row in all {
            #expect(row.state("populated") == "pte-mapped", "\(row.role) should start on small pages")
            #expect(row.kb("populated", "thp_kb") == 0, "\(row.role) populated with a THP")
            #expect(row.classes("populated")["small"] == 4096, "\(row.role) should start on small pages")
            #expect(row.kb("populated", "rss_kb") == 4096)
            switch row.role {
            case "shared", "private-clean":
                #expect(row.state("refaulted") == "pmd-mapped", "\(row.role) pid \(row.pid)")
                #expect(row.kb("refaulted", "pmd_mapped_kb") == 4096)
                let afterCollapse = row.triggerMapping ? "pmd-mapped" : "not-resident"
                #expect(row.state("collapsed") == afterCollapse, "\(row.role) pid \(row.pid) after collapse")
            case "private-written":
                #expect(row.state("collapsed") == "pte-mapped")
                #expect(row.kb("collapsed", "rss_kb") == 4, "only the copy-on-write page stays")
                #expect(row.kb("collapsed", "anon_kb") == 4)
                #expect(row.state("refaulted") == "pte-mapped")
                // Proof that the huge folio exists and is mapped by PTEs here:
                // the extent holding the anonymous page is never PMD-mapped.
                #expect(row.kb("refaulted", "pte_mapped_thp_kb") >= 2044)
                #expect(row.kb("refaulted", "pmd_mapped_kb") <= 2048)
                let classes = row.classes("refaulted")
                #expect((classes["pte_thp"] ?? 0) >= 2044, "private-written must show pte-thp: \(classes)")
                #expect(classes["small"] == 4, "only the copy-on-write page is small: \(classes)")
            case "misaligned":
                #expect(row.state("collapsed") == "not-resident")
                #expect(row.state("refaulted") == "pte-mapped")
                #expect(row.kb("refaulted", "pmd_mapped_kb") == 0)
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
        assertRetractOutcome(json, trigger: "madvise")
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
        assertRetractOutcome(json, trigger: "khugepaged")
        let wait = try #require(json["khugepaged"] as? [String: Any])
        #expect(wait["extents_collapsed"] as? Int == 2)
        #expect(wait["visited"] as? Bool == true)
        #expect((wait["collapse_events"] as? Int ?? 0) >= 2)
        #expect((wait["waited_seconds"] as? Double ?? 99) < 30, "well inside the bound")
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
        // /dev/shm is mounted huge=never here: khugepaged may not collapse
        // it, MADV_COLLAPSE ignores that.
        let k = try run(["--backing", "shm", "--trigger", "khugepaged", "--timeout", "3"])
        let obj = k["object"] as? [String: Any]
        if obj?["mount_huge"] as? String == "never" {
            #expect((k["collapse_blocker"] as? String)?.contains("huge=") == true)
            #expect((k["khugepaged"] as? [String: Any])?["extents_collapsed"] as? Int == 0)
        }
        #expect(k["ok"] as? Bool == true)
        let m = try run(["--backing", "shm"])
        assertRetractOutcome(m, trigger: "madvise")
        #expect(!FileManager.default.fileExists(atPath: (obj?["name"] as? String) ?? "/dev/shm/none"))
    }

    @Test func fileBackingIsExplained() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let json = try run(["--backing", "file", "--dir", dir])
        #expect((json["collapse_blocker"] as? String)?.contains("CONFIG_READ_ONLY_THP_FOR_FS") == true || json["collapse_blocker"] != nil)
        let first = (json["trigger_calls"] as? [[String: Any]])?.first?["outcome"] as? [String: Any]
        #expect(first?["errno_name"] as? String == "EINVAL")
        for row in rows(json) { #expect(row.kb("refaulted", "pmd_mapped_kb") == 0) }
        #expect(json["ok"] as? Bool == true)
        let leftovers = (try FileManager.default.contentsOfDirectory(atPath: dir)).filter { $0.contains("thplab-") && $0.hasSuffix("-object") }
        #expect(leftovers.isEmpty)
    }

    @Test(arguments: ["madvise", "khugepaged"])
    func nohugepageMappingRefaultsThroughPTEs(trigger: String) throws {
        let json = try run(["--nohugepage", "--trigger", trigger])
        let rows = rows(json).filter { $0.role == "nohugepage" }
        #expect(rows.count == 2)
        for row in rows {
            #expect(row.state("collapsed") == "not-resident")
            #expect(row.state("refaulted") == "pte-mapped", "6.12+: no PMD at fault under MADV_NOHUGEPAGE")
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
