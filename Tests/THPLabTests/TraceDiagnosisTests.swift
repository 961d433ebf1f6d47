import Foundation
import Testing
@testable import THPLab

/// Trace lines, attribution and reasons, on traces captured from real runs:
/// 6.18 on the host, Debian's 6.1 in a VM (`thplab vm`).
@Suite struct TraceDiagnosisTests {
    /// The huge_memory events each kernel's tracefs had: 6.1 has no
    /// mm_khugepaged_collapse_file (collapse_file() got its tracepoint later).
    static let formatsByRelease = [
        "6.18": ["mm_khugepaged_scan_file", "mm_khugepaged_collapse_file", "mm_khugepaged_scan_pmd", "mm_collapse_huge_page"],
        "6.1": ["mm_khugepaged_scan_file", "mm_khugepaged_scan_pmd", "mm_collapse_huge_page"],
    ]

    /// Every format file the release had; a missing fixture is an error.
    func formats(_ release: String) throws -> [String: TraceFormat] {
        let names = try #require(Self.formatsByRelease[release], "no format fixtures for \(release)")
        var out: [String: TraceFormat] = [:]
        for name in names { out[name] = TraceFormat.parse(try Fixture.text("format-\(name)-\(release).txt")) }
        return out
    }

    func events(_ trace: String, _ release: String) throws -> [TraceEvent] {
        ScanTracer.parse(trace: try Fixture.text(trace), formats: try formats(release))
    }

    @Test func keysComeFromThePrintFormat() throws {
        let f = try formats("6.18")
        #expect(f["mm_khugepaged_scan_file"]?.keys == ["mm", "scan_pfn", "filename", "present", "swap", "result"])
        #expect(f["mm_khugepaged_collapse_file"]?.keys.contains("hpage_pfn") == true)
        #expect(f["mm_khugepaged_scan_pmd"]?.keys.contains("writable") == false, "6.18 dropped writable")
        let old = TraceFormat.parse(try Fixture.text("format-mm_khugepaged_scan_pmd-6.1.txt"))
        #expect(old.keys.contains("writable"))
    }

    @Test func aCollapseLineOf618() throws {
        let line: Substring = "      khugepaged-38      [000] .N... 11854.666430: mm_khugepaged_collapse_file: mm=00000000babf342e, hpage_pfn=0x4de000, index=512, addr=7fbd88800000, is_shmem=1, filename=memfd:thplab-24747, nr=512, result=succeeded"
        let e = try #require(TraceEvent.parse(line, formats: try formats("6.18")))
        #expect(e.task == "khugepaged" && e.pid == 38 && e.byKhugepaged)
        #expect(abs(e.timestamp - 11854.666430) < 1e-9)
        #expect(e.name == "mm_khugepaged_collapse_file")
        #expect(e.hex("hpage_pfn") == 0x4de000)
        #expect(e.hex("addr") == 0x7fbd_8880_0000)
        #expect(e.result == "succeeded")
        #expect(e.fields["filename"] == "memfd:thplab-24747")
    }

    @Test func aFileNameWithACommaStaysWhole() throws {
        let line: Substring = "  thplab-7 [001] ..... 5.000001: mm_khugepaged_scan_file: mm=01, scan_pfn=0xffffffffffffffff, filename=a, present=9, b, present=512, swap=0, result=exceed_none_pte"
        let e = try #require(TraceEvent.parse(line, formats: try formats("6.18")))
        #expect(e.fields["filename"] == "a, present=9, b")
        #expect(e.int("present") == 512)
        #expect(e.hex("scan_pfn") == nil, "-1 means no page")
        #expect(!e.byKhugepaged)
    }

    @Test func mmapLockLinesAreSpaceSeparated() throws {
        let evs = try events("trace-anon-khugepaged-6.18.txt", "6.18")
        let lock = try #require(evs.first { $0.name == "mmap_lock_acquire_returned" })
        #expect(lock.mm == "0000000078582400")
        #expect(lock.fields["write"] == "true")
        #expect(evs.first?.markText == ScanTracer.startMark)
    }

    @Test func debian61ScanPmdHasWritable() throws {
        let evs = try events("trace-anon-khugepaged-6.1.txt", "6.1")
        let scan = try #require(evs.first { $0.name == "mm_khugepaged_scan_pmd" })
        #expect(scan.fields["writable"] != nil)
        #expect(scan.result != nil)
    }

    @Test(arguments: ["6.18", "6.1"])
    func everyResultTheKernelListsHasWords(release: String) throws {
        let table = TraceFormat.parse(try Fixture.text("format-mm_khugepaged_scan_file-\(release).txt")).resultNames
        for name in table.values {
            #expect(ScanResultMeaning.of(name) != name, "no words for \(name)")
        }
    }

    /// The subject of a saved `run retract` result: its object and mappings.
    func subject(_ resultFile: String) throws -> (TraceSubject, [Int32]) {
        let r = try JSONDecoder().decode(RetractResult.self, from: Data(contentsOf: Fixture.url(resultFile)))
        let name = r.object.name.hasPrefix("/") ? String(r.object.name.dropFirst()) : r.object.name
        let s = TraceSubject(objects: [.init(traceName: name, owner: nil, extents: r.object.size / (2 << 20))],
                             mappings: r.mappings.map { .init(pid: $0.pid, object: 0, start: $0.start, end: $0.end, offset: 0) })
        return (s, Array(Set(r.mappings.map(\.pid))).sorted())
    }

    @Test func attributionOfARealKhugepagedRunIn3Processes() throws {
        let evs = try events("trace-retract-khugepaged-3proc-6.18.txt", "6.18")
        var (s, pids) = try subject("result-retract-khugepaged-3proc-6.18.json")
        s.knownMMs = ScanTracer.processes(events: evs, pids: Set(pids))
        #expect(s.knownMMs.count == 3, "each process took its own mmap_lock")
        let a = EventAttribution.attribute(evs, subject: s)
        #expect(Set(a.mmPids.values) == Set(pids))
        #expect(a.others.isEmpty)
        #expect(a.ours == a.total)
        for extent in 0..<2 {
            let list = try #require(a.byExtent[ExtentRef(object: 0, extent: extent)])
            #expect(list.first?.event == "collapse_file")
            #expect(list.first?.result == "succeeded")
            #expect(list.first?.by == "khugepaged")
            #expect(list.first?.pid == pids.min(), "the collapse came through thplab's own mapping")
            // khugepaged then retries the PTE-mapped mappings in every process.
            let retries = list.filter { $0.result == "pte_mapped_hugepage" }
            #expect(Set(retries.flatMap { $0.pids ?? [$0.pid!] }) == Set(pids))
            let d = ExtentDiagnosis.diagnose(events: list, facts: .init(collapsed: true, trigger: .khugepaged, traced: true, objectSeen: true))
            #expect(d.reason.hasPrefix("collapsed by khugepaged at"))
            #expect(!d.inferred)
        }
    }

    @Test func exceedNonePteOfASparseRegion() throws {
        let evs = try events("trace-sparse-exceed-none-6.18.txt", "6.18")
        let name = try #require(evs.compactMap { $0.fields["filename"] }.first)
        let pid = try #require(evs.first { $0.markText != nil }?.pid)
        let s = TraceSubject(objects: [.init(traceName: name, owner: pid, extents: 2)],
                             mappings: [.init(pid: pid, object: 0, start: 0x7f00_0000_0000, end: 0x7f00_0040_0000, offset: 0)],
                             knownMMs: ScanTracer.processes(events: evs, pids: [pid]))
        let a = EventAttribution.attribute(evs, subject: s)
        let unplaced = try #require(a.byObject[0])
        #expect(unplaced.allSatisfy { $0.result == "exceed_none_pte" && $0.pid == pid })
        let d = ExtentDiagnosis.diagnose(events: a.byExtent[ExtentRef(object: 0, extent: 0)] ?? [],
                                         facts: .init(collapsed: false, trigger: .khugepaged, traced: true,
                                                      objectSeen: a.saw(object: 0), objectEvents: unplaced))
        #expect(d.lastScanResult == "exceed_none_pte")
        #expect(d.reason.contains("max_ptes_none"))
        #expect(!d.inferred, "the kernel gave the reason")
    }

    @Test func anonymousEventsAreTheOwnersByMM() throws {
        let evs = try events("trace-anon-khugepaged-6.18.txt", "6.18")
        let pid = try #require(evs.first { $0.markText != nil }?.pid)
        let s = TraceSubject(objects: [.init(traceName: nil, owner: pid, extents: 2)], mappings: [],
                             knownMMs: ScanTracer.processes(events: evs, pids: [pid]))
        let a = EventAttribution.attribute(evs, subject: s)
        #expect(a.ours == 4)
        #expect(a.others.isEmpty)
        #expect((a.byObject[0] ?? []).contains { $0.event == "collapse_huge_page" && $0.result == "succeeded" })
    }

    @Test func debian61RetractCollapsesWithoutACollapseEvent() throws {
        let evs = try events("trace-retract-khugepaged-3proc-6.1.txt", "6.1")
        var (s, pids) = try subject("result-retract-khugepaged-3proc-6.1.json")
        s.knownMMs = ScanTracer.processes(events: evs, pids: Set(pids))
        #expect(s.knownMMs.count == pids.count)
        let a = EventAttribution.attribute(evs, subject: s)
        #expect(!evs.contains { $0.name == "mm_khugepaged_collapse_file" })
        // The scans that collapsed print result=failed on 6.1.
        #expect((a.byObject[0] ?? []).contains { $0.result == "failed" && $0.details["present"] == "512" })
        let d = ExtentDiagnosis.diagnose(events: [], facts: {
            var f = ExtentDiagnosis.Facts(collapsed: true, trigger: .khugepaged, traced: true, objectSeen: true)
            f.collapseTraced = false
            return f
        }())
        #expect(d.reason.contains("no tracepoint for a file collapse"))
        #expect(d.inferred)
    }

    @Test func reasonsWithoutEventsAreMarkedInferred() {
        let never = ExtentDiagnosis.diagnose(events: [], facts: .init(collapsed: false, trigger: .khugepaged, traced: true,
                                                                       objectSeen: false, fullScans: 0))
        #expect(never.reason.contains("never visited"))
        #expect(never.inferred)
        let einval = ExtentDiagnosis.diagnose(events: [], facts: .init(collapsed: false, trigger: .madvise, errnoName: "EINVAL",
                                                                        traced: true, objectSeen: false))
        #expect(einval.reason.contains("not eligible"))
        #expect(einval.inferred)
        let blind = ExtentDiagnosis.diagnose(events: [], facts: .init(collapsed: false, trigger: .khugepaged, traced: false, objectSeen: false))
        #expect(blind.reason.contains("unknown"))
        let blocked = ExtentDiagnosis.diagnose(events: [], facts: .init(collapsed: false, trigger: .madvise, traced: true,
                                                                         objectSeen: false, blocker: "shmem_enabled is deny"))
        #expect(blocked.reason == "shmem_enabled is deny")
        #expect(blocked.inferred)
    }

    @Test func foldingKeepsTheSequenceAndTheProcesses() {
        func ev(_ t: Double, _ result: String, _ pid: Int32) -> DiagnosedEvent {
            DiagnosedEvent(t: t, event: "scan_file", by: "khugepaged", pid: pid, mm: "mm\(pid)", result: result, details: ["present": "0"])
        }
        let f = DiagnosedEvent.folded([ev(1, "succeeded", 1), ev(2, "pte_mapped_hugepage", 1), ev(3, "pte_mapped_hugepage", 2),
                                        ev(4, "pte_mapped_hugepage", 1), ev(5, "exceed_none_pte", 2)])
        #expect(f.map(\.result) == ["succeeded", "pte_mapped_hugepage", "exceed_none_pte"])
        #expect(f[1].count == 3)
        #expect(f[1].tLast == 4)
        #expect(f[1].pids == [1, 2])
        #expect(f[1].pid == nil)
        #expect(f[0].count == nil && f[0].pid == 1)
    }

    @Test func summaryListsWhatTheKernelCanReport() throws {
        let s = TraceSummary(formats: try formats("6.18"), attribution: EventAttribution(), lost: 0, allEvents: false)
        #expect(s.possibleResults.first == "failed")
        #expect(s.possibleResults.contains("lack_referenced_page"))
        #expect(s.events["mm_khugepaged_collapse_file"]?.contains("hpfn") == true)
        #expect(s.otherEvents == nil)
    }
}
