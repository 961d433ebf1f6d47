import Foundation
import Testing
@testable import THPLab

@Suite struct SweepModelTests {
    @Test func everyCombinationFirstAxisSlowest() {
        let pts = SweepAxis.points([SweepAxis(name: "a", values: ["1", "2"]), SweepAxis(name: "b", values: ["x", "y", "z"])])
        #expect(pts.count == 6)
        #expect(pts.first == ["a": "1", "b": "x"])
        #expect(pts[3] == ["a": "2", "b": "x"])
        #expect(SweepAxis.points([]) == [[:]])
    }

    func point(_ knobs: [String: String], collapsed: Int, expected: Int, full: Double?) -> SweepPoint {
        SweepPoint(knobs: knobs, runs: 1, collapsed: collapsed, total: 4, expectedCollapsed: expected, coveragePercent: 0,
                   latency: nil, fullCoverageMs: full, ok: collapsed == expected, differences: [])
    }

    @Test func sparseRuleCheck() {
        let axes = [SweepAxis(name: "khugepaged/max_ptes_none", values: ["255", "256"])]
        let good = Sweep.builtInChecks(scenario: .sparse, axes: axes, points: [
            point(["khugepaged/max_ptes_none": "255"], collapsed: 0, expected: 0, full: nil),
            point(["khugepaged/max_ptes_none": "256"], collapsed: 4, expected: 4, full: 10)])
        #expect(good.count == 1 && good[0].held)
        let bad = Sweep.builtInChecks(scenario: .sparse, axes: axes, points: [
            point(["khugepaged/max_ptes_none": "255"], collapsed: 4, expected: 0, full: 10)])
        #expect(bad.first?.held == false)
    }

    @Test func latencyOrderingCheck() {
        let axes = [SweepAxis(name: "khugepaged/scan_sleep_millisecs", values: ["10", "1000"]),
                    SweepAxis(name: "khugepaged/pages_to_scan", values: ["512"])]
        let k = "khugepaged/scan_sleep_millisecs"
        let held = Sweep.builtInChecks(scenario: .latency, axes: axes, points: [
            point([k: "10"], collapsed: 4, expected: 4, full: 40), point([k: "1000"], collapsed: 4, expected: 4, full: 3000)])
        #expect(held.first?.held == true)
        #expect(held.first?.detail.contains("1000: 3000.0 ms") == true)
        let broken = Sweep.builtInChecks(scenario: .latency, axes: axes, points: [
            point([k: "10"], collapsed: 4, expected: 4, full: 4000), point([k: "1000"], collapsed: 4, expected: 4, full: 30)])
        #expect(broken.first?.held == false)
        // pages_to_scan: faster as it rises.
        let p = "khugepaged/pages_to_scan"
        let rising = Sweep.builtInChecks(scenario: .latency, axes: [SweepAxis(name: p, values: ["512", "4096"])], points: [
            point([p: "512"], collapsed: 4, expected: 4, full: 400), point([p: "4096"], collapsed: 4, expected: 4, full: 20)])
        #expect(rising.first?.held == true)
    }

    @Test func csvHasAHeaderAndARowPerPoint() {
        let r = SweepResult(scenario: .sparse, kernelRelease: "6.18", options: RegionOptions(scenario: .sparse),
                            axes: [SweepAxis(name: "khugepaged/max_ptes_none", values: ["0", "511"])], repeatCount: 1,
                            points: [point(["khugepaged/max_ptes_none": "0"], collapsed: 0, expected: 0, full: nil),
                                     point(["khugepaged/max_ptes_none": "511"], collapsed: 4, expected: 4, full: 12.5)],
                            checks: [], knobsBefore: [:], knobsAfter: [:], ok: true, differences: [])
        let lines = CSVReport.sweep(r).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("khugepaged/max_ptes_none,runs,collapsed"))
        #expect(lines[2].hasPrefix("511,1,4,4,4,"))
        #expect(lines[2].hasSuffix(",12.5,true"))
    }

    @Test func latencyStats() {
        let s = LatencyStats.of([5, 1, 3, 9], extents: 4, source: .tracepoints)
        #expect(s?.medianMs == 4 && s?.minMs == 1 && s?.maxMs == 9 && s?.fullCoverageMs == 9)
        #expect(LatencyStats.of([2, 1], extents: 4, source: .polling)?.fullCoverageMs == nil)
        #expect(LatencyStats.of([], extents: 4, source: .polling) == nil)
    }

    @Test func sparseExpectationFollowsTheRule() {
        let c = ExpectationContext(kernel: KernelVersion(6, 18), backing: .memfd, trigger: .khugepaged,
                                   readOnlyThpForFS: false, shmemHuge: .advise)
        var o = RegionOptions(scenario: .sparse)
        o.present = 256
        #expect(RegionExperiment.expectation(o, context: c, maxPtesNone: 256).0 == o.extents)
        #expect(RegionExperiment.expectation(o, context: c, maxPtesNone: 255).0 == 0)
        #expect(RegionExperiment.expectation(o, context: c, maxPtesNone: 255).1.contains("exceed_none_pte"))
        o.trigger = .madvise
        #expect(RegionExperiment.expectation(o, context: c, maxPtesNone: 0).0 == o.extents)
    }

    static let oneNode = NumaTopology(nodes: [NumaNode(node: 0, memTotalKB: 8 << 20, memFreeKB: 4 << 20, hugeKB: [:],
                                                       distances: [10], cpus: "0-1")])

    @Test(arguments: [
        ({ @Sendable (o: inout RegionOptions) in o.extents = 0 }, "--extents must be from 1"),
        ({ $0.present = 513 }, "--present must be from 1 to 512"),
        ({ $0.present = 0 }, "--present must be from 1 to 512"),
        ({ $0.timeoutSeconds = 0 }, "--timeout must be from 1"),
        ({ $0.trigger = .madvise }, "use --trigger khugepaged"),
        ({ $0.extents = 4096 }, "but only 8192 MiB is available"),
        ({ $0.processes = 2 }, "--processes above 1 is for latency"),
        ({ $0.scenario = .bloat; $0.present = 513 }, "--touched must be from 0 to 512"),
        ({ $0.scenario = .bloat; $0.present = -1 }, "--touched must be from 0 to 512"),
        ({ $0.scenario = .bloat; $0.backing = .file }, "bloat needs --backing anon or shmem"),
        ({ $0.scenario = .bloat; $0.backing = .anon; $0.extents = 2048 }, "but only 8192 MiB is available"),
        ({ $0.scenario = .shared; $0.backing = .anon; $0.present = 512; $0.shared = 513 }, "--shared must be from 0 to 512"),
        ({ $0.scenario = .shared; $0.present = 512 }, "shared needs --backing anon"),
    ] as [(@Sendable (inout RegionOptions) -> Void, String)])
    func regionOptionsRefuseBadInput(change: @Sendable (inout RegionOptions) -> Void, says: String) {
        var o = RegionOptions(scenario: .sparse)
        change(&o)
        let e = #expect(throws: THPLabError.self) { try o.validate(room: MemoryRoom(kb: 8 << 20, source: "MemAvailable"), topology: Self.oneNode) }
        #expect(e?.exitCode == 2)
        #expect(e?.message.contains(says) == true, "\(e?.message ?? "")")
    }

    @Test func theNumaScenarioNeedsTwoNodesWithMemory() {
        let e = #expect(throws: THPLabError.self) {
            try RegionOptions(scenario: .numa).validate(room: MemoryRoom(kb: 8 << 20, source: "MemAvailable"), topology: Self.oneNode)
        }
        #expect(e?.exitCode == 3)
        #expect(e?.message.contains("has 1") == true)
        #expect(throws: Never.self) { try RegionOptions(scenario: .sparse).validate(room: MemoryRoom(kb: 8 << 20, source: "MemAvailable"), topology: Self.oneNode) }
    }

    @Test func collapseTimesFromMarkerAndEvents() {
        let trace = """
            thplab-1-1 [000] .....  100.000000: tracing_mark_write: thplab-eligible
            khugepaged-38 [001] .....  100.012500: mm_khugepaged_collapse_file: mm=0000, hpage_pfn=0x1, index=512, addr=7f0000000000, is_shmem=1, filename=memfd:thplab-1, nr=512, result=succeeded
            khugepaged-38 [001] .....  100.020000: mm_khugepaged_collapse_file: mm=0000, hpage_pfn=0x2, index=1024, addr=7f0000200000, is_shmem=1, filename=memfd:thplab-1, nr=512, result=alloc_failed
            khugepaged-38 [001] .....  100.030000: mm_khugepaged_collapse_file: mm=0000, hpage_pfn=0x3, index=1024, addr=7f0000200000, is_shmem=1, filename=memfd:other, nr=512, result=succeeded
            """
        let events = ScanTracer.parse(trace: trace, formats: [:])
        let t = ScanTracer.collapseTimes(events: events, mark: "thplab-eligible", objectName: "memfd:thplab-1")
        #expect(t.count == 1)
        #expect(abs((t[0x7f00_0000_0000] ?? 0) - 0.0125) < 1e-9)
    }
}

@Suite struct MatrixTests {
    func load(_ name: String) throws -> RetractResult {
        try Fixture.result(name, as: RetractResult.self)
    }

    /// The real 6.18 and 6.1 MADV_COLLAPSE runs side by side.
    @Test func hostAnd61DifferWhereTheVersionsDo() throws {
        let host = try load("result-retract-madvise-memfd-6.18.json")
        let old = try load("result-retract-madvise-memfd-6.1.json")
        let m = Matrix.build(arguments: ["run", "retract"], columns: [
            (MatrixColumn(label: "host", kernelRelease: host.kernelRelease, how: "host", exitCode: 0, ok: host.ok), Behaviour.rows(host)),
            (MatrixColumn(label: "6.1", kernelRelease: old.kernelRelease, how: "tcg", exitCode: 1, ok: old.ok), Behaviour.rows(old))])
        #expect(m.rows.count == 8)
        let differ = m.rows.filter(\.disagree).map { "\($0.process) \($0.role)" }
        #expect(differ.sorted() == ["thplab private-clean", "worker 1 private-clean", "worker 1 shared"])
        #expect(m.disagreements.count == 3)
        #expect(m.disagreements.allSatisfy { $0.contains("6.6") })
        let text = MatrixTextReport.render(m)
        #expect(text.contains("kernels differ"))
        #expect(text.contains("worker 1"))
    }

    @Test func aMissingResultIsAnEmptyColumn() throws {
        let host = try load("result-retract-madvise-memfd-6.18.json")
        let m = Matrix.build(arguments: ["run", "retract"], columns: [
            (MatrixColumn(label: "host", kernelRelease: host.kernelRelease, how: "host", exitCode: 0, ok: true), Behaviour.rows(host)),
            (MatrixColumn(label: "broken", kernelRelease: "?", how: "tcg", exitCode: 3, ok: false), nil)])
        #expect(m.rows.allSatisfy { $0.cells[1].observed == nil })
        #expect(!m.ok)
    }
}
