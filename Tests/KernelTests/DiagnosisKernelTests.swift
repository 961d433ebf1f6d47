import Foundation
import Testing

/// The huge_memory events in run results, on the machine's own kernel:
/// attribution to processes and extents, and the reasons they give.
extension KernelSuite {
@Suite struct DiagnosisKernelTests {
    func run(_ args: [String], timeout: Double = 120, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try Thplab.runJSON(args, timeout: timeout, sourceLocation: sourceLocation)
    }

    func diagnoses(_ extents: Any?) -> [[String: Any]] {
        (extents as? [[String: Any]] ?? []).compactMap { $0["diagnosis"] as? [String: Any] }
    }

    func events(_ d: [String: Any]) -> [[String: Any]] { d["events"] as? [[String: Any]] ?? [] }

    /// Whether the running kernel has a tracepoint for a file collapse
    /// (6.1 has none): the events the run enabled, as its format files said.
    func fileCollapseTraced(_ trace: [String: Any]) -> Bool {
        (trace["events"] as? [String: Any])?["mm_khugepaged_collapse_file"] != nil
    }

    func pids(_ e: [String: Any]) -> Set<Int> {
        if let many = e["pids"] as? [Int] { return Set(many) }
        return (e["pid"] as? Int).map { [$0] } ?? []
    }

    @Test func khugepagedEventsAreAttributedToEveryProcessAndExtent() throws {
        let json = try run(["run", "retract", "--trigger", "khugepaged", "--processes", "3"])
        let mappingPids = Set((json["mappings"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int })
        #expect(mappingPids.count == 3)
        let trace = try #require(json["trace"] as? [String: Any])
        // Each process's mm was told apart through its own mmap_lock.
        let byMM = trace["processes"] as? [String: Int] ?? [:]
        #expect(Set(byMM.values) == mappingPids)
        #expect(trace["lost"] as? Int == 0)
        #expect((trace["possible_results"] as? [String] ?? []).contains("exceed_none_pte"))
        let ds = diagnoses(json["extents"])
        #expect(ds.count == 2)
        let traced = fileCollapseTraced(trace)
        for d in ds {
            let evs = events(d)
            if traced {
                let collapse = try #require(evs.first { $0["event"] as? String == "collapse_file" })
                #expect(collapse["result"] as? String == "succeeded")
                #expect(collapse["by"] as? String == "khugepaged")
                #expect(mappingPids.isSuperset(of: pids(collapse)) && !pids(collapse).isEmpty)
                #expect((d["reason"] as? String)?.hasPrefix("collapsed by khugepaged at") == true)
                #expect(d["inferred"] as? Bool == false)
            } else {
                #expect((d["reason"] as? String)?.contains("no tracepoint for a file collapse") == true, "\(d)")
                #expect(d["inferred"] as? Bool == true)
            }
            // Then khugepaged keeps finding the huge folio PTE-mapped: in the
            // private-written and misaligned mappings of every process.
            let retries = evs.filter { $0["result"] as? String == "pte_mapped_hugepage" }
            #expect(retries.reduce(Set<Int>()) { $0.union(pids($1)) } == mappingPids)
        }
        // The private-written mapping says why it stays on PTEs.
        let written = (json["mappings"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == "private-written" }
        #expect(written.count == 3)
        for m in written {
            #expect((m["reason"] as? String)?.contains("anon_vma") == true)
        }
    }

    @Test func exceedNonePteIsTheKernelsReason() throws {
        let json = try run(["knobs", "set", "max_ptes_none=255", "--", Thplab.binary, "run", "sparse", "--present", "256",
                            "--extents", "2"])
        #expect(json["collapsed"] as? Int == 0)
        let ds = diagnoses(json["extents"])
        #expect(ds.count == 2)
        for d in ds {
            #expect(d["last_scan_result"] as? String == "exceed_none_pte")
            #expect((d["reason"] as? String)?.contains("max_ptes_none") == true)
            #expect(d["inferred"] as? Bool == false)
        }
        let w = try #require(json["khugepaged"] as? [String: Any])
        #expect((w["verdict"] as? String)?.contains("exceed_none_pte") == true)
    }

    @Test func aProcessKhugepagedNeverVisitsIsNamedAndTheWaitEndsEarly() throws {
        let json = try run(["run", "retract", "--trigger", "khugepaged", "--madvise-times", "1", "--timeout", "60"])
        let w = try #require(json["khugepaged"] as? [String: Any])
        #expect(w["visited"] as? Bool == false)
        // The wait ends on evidence, not on the bound: khugepaged idle, or
        // two full passes over its list without a look at the object.
        let idle = w["khugepaged_idle"] as? Bool == true
        #expect(idle || (w["full_scans"] as? Int ?? 0) >= 2, "the wait ended early for a reason: \(w)")
        #expect((w["verdict"] as? String)?.contains("never looked") == true)
        let ds = diagnoses(json["extents"])
        #expect(ds.count == 2, "one diagnosis per extent of the 4 MiB object")
        for d in ds {
            #expect((d["reason"] as? String)?.contains("never visited") == true)
            #expect(d["inferred"] as? Bool == true)
            #expect(events(d).isEmpty)
        }
    }

    @Test func madviseEventsAreTheCallersOwn() throws {
        let json = try run(["run", "collapse", "--trigger", "madvise", "--extents", "2"])
        let extents = json["extents"] as? [[String: Any]] ?? []
        #expect(extents.count == 2)
        let trace = try #require(json["trace"] as? [String: Any])
        for extent in extents {
            let pid = try #require(extent["pid"] as? Int)
            let d = try #require(extent["diagnosis"] as? [String: Any])
            #expect((d["reason"] as? String)?.hasPrefix("collapsed by MADV_COLLAPSE") == true)
            guard fileCollapseTraced(trace) else { continue }
            let made = try #require(events(d).first { $0["event"] as? String == "collapse_file" })
            #expect(made["by"] as? String == "madvise")
            #expect(pids(made) == [pid])
        }
        #expect(trace["other_events"] == nil, "other processes' events are only counted by default")
    }

    @Test func allEventsListsOtherProcesses() throws {
        let json = try run(["run", "collapse", "--backing", "anon", "--trigger", "khugepaged", "--extents", "1", "--all-events"])
        let trace = try #require(json["trace"] as? [String: Any])
        let others = try #require(trace["other_events"] as? [[String: Any]])
        #expect(others.reduce(0) { $0 + ($1["count"] as? Int ?? 1) } == trace["others"] as? Int)
        let d = try #require(diagnoses(json["extents"]).first)
        #expect(events(d).contains { $0["event"] as? String == "collapse_huge_page" && $0["result"] as? String == "succeeded" })
        let latency = try #require(json["latency"] as? [String: Any])
        #expect(latency["source"] as? String == "tracepoints")
    }
}
}
