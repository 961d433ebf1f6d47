import Foundation
import Testing
@testable import THPLab

/// explain's triage, the object view and collapse's plan on snapshots of a
/// real PostgreSQL 15 (Debian's), 512 MiB-1 GiB shared_buffers, captured on
/// 6.18: once started under shmem_enabled=never (its buffer pool at a
/// misaligned address), once started under advise and collapsed with
/// `thplab collapse` in the postmaster.
@Suite struct TriageTests {
    static func snapshot(_ name: String) throws -> SnapshotResult {
        try JSONDecoder().decode(SnapshotResult.self, from: Data(contentsOf: Fixture.url(name)))
    }

    static let knobs = ["enabled": "madvise", "shmem_enabled": "never", "khugepaged/max_ptes_none": "511",
                        "hugepages-2048kB/enabled": "inherit", "khugepaged/scan_sleep_millisecs": "10000"]

    static func explain(_ s: SnapshotResult, kernel: KernelVersion? = KernelVersion(6, 18)) -> ExplainResult {
        let ctx = Explainer.Context(knobs: knobs, readOnlyThpForFS: false, mountHuge: { _ in nil })
        let vmas = s.processes.flatMap { p in p.vmas.map { v -> VmaExplanation in
            var e = Explainer.explain(v, ctx)
            e.pid = p.pid
            return e
        } }
        var r = ExplainResult(kernelRelease: s.kernelRelease, pid: s.processes[0].pid, comm: "postgres", knobs: knobs, vmas: vmas, notes: [])
        let ranked = Triage.rank(vmas, RemedyContext(knobs: knobs, kernel: kernel))
        r.targets = ["--comm postgres"]
        r.processes = []
        r.summary = ranked.summary
        r.blockers = ranked.blockers
        r.objects = SharedObjects.find(in: s.processes)
        return r
    }

    static func bufferPool(_ s: SnapshotResult) -> VmaCoverage {
        s.processes[0].vmas.filter { $0.backing.name.hasPrefix("/dev/zero") }.max { $0.end - $0.start < $1.end - $1.start }!
    }

    @Test func misalignedBufferPoolRanksFirstWithItsRemedy() throws {
        let s = try Self.snapshot("snapshot-postgres-misaligned-6.18.json")
        #expect(VmaRules.aligned(Self.bufferPool(s)) == false)
        let r = Self.explain(s)
        // Memory outside any whole extent is summed apart (the report's last line).
        let first = try #require(r.blockers?.first { $0.kind != .tooSmall })
        #expect(first.kind == .misaligned)
        #expect(first.largest.allSatisfy { $0.name.hasPrefix("/dev/zero") })
        #expect(first.processCount == s.processes.count)
        #expect(first.remedy.restart)
        #expect(first.remedy.evidence == "measured on 6.18")
        #expect(first.remedy.cause?.contains("shmem_enabled=never") == true)
        #expect(first.remedy.commands.first == "echo advise > /sys/kernel/mm/transparent_hugepage/shmem_enabled   # before the program starts")
        #expect(first.remedy.thplabNow?.contains("refuses a misaligned VMA") == true)
        #expect(first.also == [.shmemPolicy])
        // On another kernel series the same remedy is only inferred.
        #expect(Self.explain(s, kernel: KernelVersion(6, 1)).blockers?.first { $0.kind == .misaligned }?.remedy.evidence == "inferred")
        // Every resident page not PMD-mapped is under exactly one blocker.
        let summary = try #require(r.summary)
        #expect(summary.heldBackKB == summary.residentKB - summary.pmdKB)
        #expect(r.blockers!.map(\.kb) == r.blockers!.map(\.kb).sorted(by: >))
    }

    @Test func triageFitsOnOneScreen() throws {
        for name in ["snapshot-postgres-misaligned-6.18.json", "snapshot-postgres-aligned-collapsed-6.18.json"] {
            let r = Self.explain(try Self.snapshot(name))
            let text = ExplainTextReport.render(r)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count <= 45, "\(name): \(lines.count) lines")
            #expect(lines.allSatisfy { $0.count <= 400 })
            // Per-VMA blocks only on request.
            #expect(!text.contains("THPeligible"))
            #expect(ExplainTextReport.render(r, .init(vmas: true)).contains("THPeligible"))
        }
    }

    @Test func objectViewOfTheCollapsedBufferPool() throws {
        let s = try Self.snapshot("snapshot-postgres-aligned-collapsed-6.18.json")
        let pool = try #require(SharedObjects.find(in: s.processes).first)
        #expect(pool.name.hasPrefix("/dev/zero"))
        #expect(pool.processes.count == s.processes.count)
        #expect(pool.hugeKB > 100 << 10)
        #expect(pool.hugeKB <= pool.residentKB)
        // The postmaster, where the collapse ran, maps them with PMDs.
        let postmaster = try #require(pool.processes.first { $0.pid == s.processes.min { $0.pid < $1.pid }!.pid })
        #expect(postmaster.pmdKB > 100 << 10)
        // A process that never faulted there gets PMDs at its next fault.
        let waiting = pool.processes.filter { $0.pmdAtNextFaultKB > 0 }
        #expect(!waiting.isEmpty)
        #expect(waiting.allSatisfy { $0.outlook.contains("next fault") })
        // Nothing is misaligned any more.
        #expect(VmaRules.aligned(Self.bufferPool(s)) == true)
        #expect(Self.explain(s).blockers?.contains { $0.kind == .misaligned } == false)
    }

    @Test func objectViewOfTheMisalignedPool() throws {
        let s = try Self.snapshot("snapshot-postgres-misaligned-6.18.json")
        let pool = try #require(SharedObjects.find(in: s.processes).first { $0.name.hasPrefix("/dev/zero") })
        #expect(pool.hugeKB == 0)
        #expect(pool.pmdMappedIn == 0)
        #expect(pool.processes.allSatisfy { $0.outlook.hasPrefix("PTEs only here: address not congruent") })
    }

    @Test func collapsePlanSkipsWhatCannotSucceed() throws {
        let mis = try Self.snapshot("snapshot-postgres-misaligned-6.18.json")
        let facts = CollapsePlanner.Facts(readOnlyThpForFS: false, thpEnabled: true)
        let pool = Self.bufferPool(mis)
        let plan = CollapsePlanner.plan(mis.processes[0], start: pool.start, end: pool.end, facts)
        #expect(!plan.isEmpty)
        #expect(plan.allSatisfy { $0.skip == .misaligned })
        let groups = CollapsePlanner.skipped(plan)
        #expect(groups.count == 1)
        #expect(groups[0].extents == plan.count)

        let done = try Self.snapshot("snapshot-postgres-aligned-collapsed-6.18.json")
        let pm = done.processes.min { $0.pid < $1.pid }!
        let v = pm.vmas.first { $0.backing.name.hasPrefix("/dev/zero") && $0.end - $0.start > 100 << 20 }!
        // Nothing cached beyond what the snapshot shows: untouched extents are skipped as not resident.
        let after = CollapsePlanner.plan(pm, start: v.start, end: v.end, facts)
        let reasons = Set(after.compactMap(\.skip))
        #expect(reasons.isSubset(of: [.alreadyPmd, .notResident]))
        #expect(after.contains { $0.skip == .alreadyPmd })
        // With the page cache holding pages there, those extents are attempted.
        let cached = CollapsePlanner.plan(pm, start: v.start, end: v.end,
                                          .init(readOnlyThpForFS: false, thpEnabled: true) { _, _ in 512 })
        #expect(cached.filter { $0.skip == nil }.count == after.filter { $0.skip == .notResident }.count + after.filter { $0.skip == nil }.count)
        // THP disabled for the process rules out everything.
        let off = CollapsePlanner.plan(pm, start: v.start, end: v.end, .init(readOnlyThpForFS: false, thpEnabled: false))
        #expect(off.allSatisfy { $0.skip == .processDisabled })
        // Spans join adjacent extents.
        let spans = CollapsePlanner.spans(cached.filter { $0.skip == nil })
        #expect(spans.reduce(0) { $0 + $1.extents } == cached.filter { $0.skip == nil }.count)
    }

    @Test func collapseTextIsOneLinePerReason() throws {
        let mis = try Self.snapshot("snapshot-postgres-misaligned-6.18.json")
        let pool = Self.bufferPool(mis)
        let plan = CollapsePlanner.plan(mis.processes[0], start: pool.start, end: pool.end, .init(readOnlyThpForFS: false, thpEnabled: true))
        var r = CollapseResult(kernelRelease: mis.kernelRelease, pid: mis.processes[0].pid, start: pool.start, end: pool.end, attempts: [],
                               succeeded: 0, refused: 0, diff: ProcessDiff.empty(pid: mis.processes[0].pid))
        r.skipped = CollapsePlanner.skipped(plan)
        r.planned = 0
        let text = CollapseTextReport.render(r)
        #expect(text.split(separator: "\n").count <= 3, "\(text)")
        #expect(text.contains("\(plan.count) skipped: misaligned"))
        #expect(!r.reachedGoal)
    }
}

/// The rollup and object view in the HTML and CSV forms.
@Suite struct TargetReportTests {
    @Test func htmlAndCsvCarryRollupsAndObjects() throws {
        var s = try TriageTests.snapshot("snapshot-postgres-aligned-collapsed-6.18.json")
        s.rollup = TargetRollup(targets: ["--comm postgres"], processes: s.processes, unread: [UnreadProcess(pid: 7, reason: "exited")])
        for i in s.processes.indices { s.processes[i].cgroup = "/svc" }
        let html = HTMLReport.render([(source: "test", result: .snapshot(s))])
        #expect(html.contains("target --comm postgres: \(s.processes.count) process(es)"))
        #expect(html.contains("objects mapped by several processes"))
        #expect(html.contains("/dev/zero (deleted)"))
        #expect(html.contains("could not be read: exited (7)"))
        let csv = try CSVReport.render(.snapshot(s))
        #expect(csv.hasPrefix("pid,comm,start,end,backing,"))
        #expect(csv.split(separator: "\n").first?.hasSuffix(",coverage_percent,cgroup,mthp_by_size_kb") == true)
        #expect(csv.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix(",/svc,") || $0.contains(",/svc,") })
    }
}

@Suite struct ExplainReportTests {
    @Test func explainHasItsOwnHtmlAndReadsBack() throws {
        let r = TriageTests.explain(try TriageTests.snapshot("snapshot-postgres-misaligned-6.18.json"))
        let back = try ResultFile.decode(try ResultEnvelope.encode(r), source: "the result")
        guard case .explain(let e) = back else { Issue.record("read back as \(back.kind.rawValue)"); return }
        #expect(e.blockers == r.blockers)
        let html = HTMLReport.render([(source: "test", result: back)])
        #expect(html.contains("what holds the rest back"))
        #expect(html.contains("shared memory at an address not congruent"))
        #expect(html.contains("echo advise &gt; /sys/kernel/mm/transparent_hugepage/shmem_enabled"))
    }
}
