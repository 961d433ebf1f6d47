import Foundation
import Testing
@testable import THPLab

/// HTML and CSV views of real results saved from this machine's runs.
@Suite struct HTMLReportTests {
    func load(_ name: String) throws -> AnyResult {
        try ResultFile.read(Fixture.path(name))
    }

    func html(_ names: String...) throws -> String {
        HTMLReport.render(try names.map { (source: $0, result: try load($0)) })
    }

    func count(_ needle: String, in s: String) -> Int { s.components(separatedBy: needle).count - 1 }

    /// The `data-points` of every line chart.
    func chartPoints(_ s: String) -> [Int] {
        s.components(separatedBy: "class=\"chart\" data-points=\"").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
    }

    /// Self-contained: no script, nothing fetched.
    func expectSelfContained(_ s: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!s.lowercased().contains("<script"), sourceLocation: sourceLocation)
        #expect(!s.contains("src="), sourceLocation: sourceLocation)
        #expect(!s.contains("href="), sourceLocation: sourceLocation)
        #expect(!s.contains("@import") && !s.contains("url("), sourceLocation: sourceLocation)
        #expect(s.hasPrefix("<!DOCTYPE html>") && s.contains("</html>"), sourceLocation: sourceLocation)
    }

    @Test func retractShowsEveryMappingExtentAndPhase() throws {
        let name = "result-retract-khugepaged-3proc-6.18.json"
        guard case .retract(let r) = try load(name) else { Issue.record("not a retract result"); return }
        let s = try html(name)
        expectSelfContained(s)
        for m in r.mappings {
            #expect(s.contains("<td>\(m.pid)" + (m.inTriggerProcess ? "" : " (worker)") + "</td><td>\(m.role.rawValue)"), "mapping \(m.pid) \(m.role)")
        }
        #expect(count("<span class=\"state\"", in: s) == r.mappings.count * 4, "three phases and the expectation per mapping")
        for e in r.extents ?? [] { #expect(s.contains(HTML.escape(e.diagnosis.reason))) }
        #expect(s.contains("collapse_file succeeded"))
        // One panel per process, each with its mappings' three phases.
        let pids = Set(r.mappings.map(\.pid))
        #expect(chartPoints(s).count == pids.count && chartPoints(s).reduce(0, +) == r.mappings.count * 3)
        #expect(pids.allSatisfy { s.contains(">pid \($0): PMD-mapped through the phases</text>") })
        #expect(s.contains(">phase</text>") && s.contains(">PMD-mapped (kB)</text>"), "both axes labelled")
        #expect(count("class=\"legend\"", in: s) == r.mappings.count, "a legend entry per mapping")
    }

    @Test func runHasAnExtentMapWithALegend() throws {
        let name = "result-collapse-anon-khugepaged-6.18.json"
        guard case .run(let r) = try load(name) else { Issue.record("not a run result"); return }
        let s = try html(name)
        expectSelfContained(s)
        #expect(s.contains("data-extents=\"\(r.extents.count)\""))
        #expect(count("<rect class=\"extent\"", in: s) == r.extents.count)
        for c in PageClass.allCases { #expect(s.contains("</i>\(c.label)</span>"), "legend has \(c.label)") }
        for e in r.extents { #expect(s.contains(HTML.hex(e.start))) }
    }

    @Test func sweepIsTwoCurvesWithUnitsAndOneLinePerSecondKnobValue() throws {
        let name = "result-sweep-sparse-6.18.json"
        guard case .sweep(let r) = try load(name) else { Issue.record("not a sweep result"); return }
        let s = try html(name)
        expectSelfContained(s)
        #expect(s.contains(">max_ptes_none (pages)</text>"))
        #expect(s.contains(">collapsed (% of extents)</text>") && s.contains(">time (ms)</text>"))
        #expect(count(">pages_to_scan=512</text>", in: s) == 2 && count(">pages_to_scan=4096</text>", in: s) == 2)
        let points = chartPoints(s)
        #expect(points.count == 2)
        #expect(points[0] == r.points.count, "every point has an outcome")
        #expect(points[1] == r.points.filter { $0.fullCoverageMs != nil || $0.latency != nil }.count)
        #expect(count("<polyline", in: s) >= 2)
    }

    /// The saved sweep of max_ptes_none 255, 256, 511: the axis is to scale,
    /// so 255 and 256 sit together and 511 far off (a threshold at 256 no
    /// longer looks like a ramp); the two pages_to_scan lines, which
    /// coincide, both stay visible (each its own colour, dash and marker
    /// size, the later inside the earlier).
    @Test func sweepAxisIsToScaleAndCoincidingSeriesStayVisible() throws {
        let s = try html("result-sweep-sparse-6.18.json")
        func cx(_ label: String) -> Double? {
            guard let r = s.range(of: "y2=\"[^\"]*\" stroke=\"#333\"/><text x=\"[0-9.]+\" y=\"[0-9.]+\" text-anchor=\"middle\">\(label)</text>", options: .regularExpression),
                  let x = s[r].range(of: "<text x=\"[0-9.]+", options: .regularExpression) else { return nil }
            return Double(s[x].dropFirst(9))
        }
        let x255 = try #require(cx("255")), x511 = try #require(cx("511"))
        #expect(cx("256") == nil, "256's tick label would overlap 255's and is left out")
        #expect(x511 - x255 > 300, "to scale: \(x255) \(x511)")
        let radii = Set(s.matches(of: /data-series="(\d)" cx="[^"]*" cy="[^"]*" r="([0-9.]+)"/).map { "\($0.1):\($0.2)" })
        #expect(radii.contains("0:4.20") && radii.contains("1:3"), "\(radii)")
        #expect(s.contains("stroke-dasharray=\"7 4\""), "the second line is dashed")
    }

    @Test func logScaleForValuesOverDecadesAndOneColourPerSeries() {
        #expect(LineChart.xScale(["10", "100", "1000"], numeric: true) == .log)
        #expect(LineChart.xScale(["0", "64", "511"], numeric: true) == .linear)
        #expect(LineChart.xScale(["plain", "advised"], numeric: true) == .category)
        #expect(LineChart.xScale(["10", "1000"], numeric: false) == .category)
        #expect(Set(LineChart.palette).count == 12)
        let chart = LineChart(title: "t", xLabel: "scan_sleep_millisecs (ms)", yLabel: "y",
                              series: [.init(name: "a", points: [("10", 1), ("100", 2), ("1000", 3)])], yMax: nil, numericX: true).svg()
        #expect(chart.contains("(ms), log scale"))
        let xs = chart.matches(of: /class="point" data-series="0" cx="([0-9.]+)"/).compactMap { Double($0.1) }
        #expect(xs.count == 3 && abs((xs[1] - xs[0]) - (xs[2] - xs[1])) < 1, "decades equally apart: \(xs)")
    }

    @Test func anEmptySweepSaysSo() {
        let empty = SweepResult(scenario: .sparse, kernelRelease: "6.18", options: RegionOptions(scenario: .sparse),
                                axes: [SweepAxis(name: "khugepaged/max_ptes_none", values: ["0", "511"])], repeatCount: 1,
                                points: [], checks: [], knobsBefore: [:], knobsAfter: [:], ok: true, differences: [])
        let s = HTMLReport.render([(source: "empty", result: .sweep(empty))])
        #expect(chartPoints(s) == [0, 0])
        #expect(count(">no data</text>", in: s) == 2)
        #expect(s.contains("the sweep is empty"))
        var noAxes = empty
        noAxes.axes = []
        #expect(HTMLReport.render([(source: "empty", result: .sweep(noAxes))]).contains("no knob axis"))
    }

    @Test func watchIsATimeline() throws {
        let name = "result-watch-6.18.json"
        guard case .watch(let w) = try load(name) else { Issue.record("not a watch result"); return }
        let s = try html(name)
        expectSelfContained(s)
        #expect(chartPoints(s) == [w.samples.count, w.samples.count * 3])
        #expect(s.contains(">time (s)</text>") && s.contains(">PMD-mapped (% of resident)</text>"))
    }

    @Test func snapshotAndDiff() throws {
        let s = try html("snapshot-after-6.18.json", "result-diff-6.18.json")
        expectSelfContained(s)
        #expect(s.contains("data-kind=\"snapshot\"") && s.contains("data-kind=\"diff\""))
        #expect(s.contains("class=\"extent-map\""))
        #expect(s.contains("became huge"))
        #expect(s.contains("class=\"bars\""))
    }

    @Test func matrixMarksDisagreements() throws {
        let name = "result-matrix-6.18-6.1.json"
        guard case .matrix(let m) = try load(name) else { Issue.record("not a matrix result"); return }
        let s = try html(name)
        expectSelfContained(s)
        for c in m.columns { #expect(s.contains(HTML.escape(c.kernelRelease))) }
        #expect(count("<tr class=\"disagree\">", in: s) == m.rows.filter { $0.disagree }.count)
        #expect(m.rows.contains { $0.disagree }, "6.1 and 6.18 differ on the private-clean mappings")
    }

    @Test func namesFromTheSystemAreEscaped() throws {
        guard case .snapshot(var snap) = try load("snapshot-after-6.18.json") else { Issue.record("not a snapshot"); return }
        let evil = "<script>alert(1)</script>"
        snap.processes[0].comm = evil
        let i = try #require(snap.processes[0].vmas.firstIndex { $0.pages.pmd > 0 })
        snap.processes[0].vmas[i].backing.name = "/memfd:" + evil
        let s = HTMLReport.render([(source: evil, result: .snapshot(snap))])
        expectSelfContained(s)
        #expect(s.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!s.contains(evil))
        let csv = try CSVReport.render(.snapshot(snap))
        #expect(csv.contains("/memfd:<script>alert(1)</script>"), "CSV keeps the name as it is")
    }

    @Test(arguments: [("{\"kind\": \"sweep\", \"schema_version\": 0}", "older"),
                      ("{\"kind\": \"sweep\", \"schema_version\": 2}", "newer"),
                      ("{\"kind\": \"sweep\"}", "no schema_version"),
                      ("{\"kind\": \"sweep\", \"schema_version\": 1, \"points\": 7}", "damaged")])
    func otherSchemaVersionsAreRefusedClearly(json: String, says: String) {
        let e = #expect(throws: THPLabError.self) { try ResultFile.decode(Array(json.utf8), source: "x.json") }
        #expect(e?.exitCode == 2)
        #expect(e?.message.contains(says) == true, "\(e?.message ?? "")")
    }

    @Test func kindsWithoutAViewShowTheirJSON() throws {
        let doctor = "{\"kind\": \"doctor\", \"schema_version\": 1, \"machine\": \"<b>x</b>\"}"
        let r = try ResultFile.decode(Array(doctor.utf8), source: "d.json")
        let s = HTMLReport.render([(source: "d.json", result: r)])
        #expect(s.contains("<pre>") && s.contains("&lt;b&gt;x&lt;/b&gt;"))
        let knobs = "{\"enabled\": {\"current\": \"madvise\", \"changed_by_thplab\": false}}"
        #expect(try ResultFile.decode(Array(knobs.utf8), source: "k.json").kind == .knobs)
    }

    @Test func csvOfSweepsTimelinesAndSnapshots() throws {
        guard case .watch(let w) = try load("result-watch-6.18.json") else { Issue.record("not a watch"); return }
        let watch = try CSVReport.render(.watch(w)).split(separator: "\n")
        #expect(watch.count == w.samples.count + 1)
        #expect(watch[0] == "t_s,resident_kb,pmd_kb,swapped_kb,coverage_percent,mthp_kb,mthp_by_size_kb")
        let snap = try CSVReport.render(try load("snapshot-after-6.18.json"))
        #expect(snap.hasPrefix("pid,comm,start,end,backing,"))
        #expect(CSVReport.field("a,b \"c\"") == "\"a,b \"\"c\"\"\"")
        let e = #expect(throws: THPLabError.self) { try CSVReport.render(try load("result-collapse-anon-khugepaged-6.18.json")) }
        #expect(e?.message.contains("no CSV form") == true)
    }
}
