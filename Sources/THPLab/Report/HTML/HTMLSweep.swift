/// `thplab sweep` as charts: the outcome rate and the latency against the
/// first knob, one line per value of the other knobs.
enum HTMLSweep {
    /// The unit of a knob's values, for the axis label.
    static func unit(_ knob: String) -> String {
        if knob.hasSuffix("millisecs") { return "ms" }
        if knob.contains("max_ptes") || knob.hasSuffix("pages_to_scan") { return "pages" }
        return ""
    }

    static func short(_ knob: String) -> String { String(knob.split(separator: "/").last ?? Substring(knob)) }

    static func render(_ r: SweepResult) -> String {
        var s = "<h2>sweep \(HTML.escape(r.scenario.rawValue))</h2>"
        s += HTML.facts([("kernel", r.kernelRelease), ("axes", r.axes.map { "\($0.name) = \($0.values.joined(separator: ", "))" }.joined(separator: "; ")),
                         ("repeat", "\(r.repeatCount)"), ("points", "\(r.points.count)"), ("options", HTML.optionsLine(r.options))])
        guard let x = r.axes.first else {
            return s + "<p class=\"muted\">This sweep has no knob axis.</p>" + HTMLExperiments.outcome(r.ok, r.differences, [])
        }
        let others = Array(r.axes.dropFirst())
        // One series per combination of the other axes' values.
        let groups = SweepAxis.points(others)
        func series(_ value: (SweepPoint) -> Double?) -> [LineChart.Series] {
            groups.map { g in
                let name = g.isEmpty ? short(x.name) : g.sorted { $0.key < $1.key }.map { "\(short($0.key))=\($0.value)" }.joined(separator: ", ")
                let points = x.values.map { v -> (x: String, y: Double?) in
                    let p = r.points.first { pt in pt.knobs[x.name] == v && g.allSatisfy { pt.knobs[$0.key] == $0.value } }
                    return (v, p.flatMap(value))
                }
                return LineChart.Series(name: name, points: points)
            }
        }
        let u = unit(x.name)
        let xLabel = short(x.name) + (u.isEmpty ? "" : " (\(u))")
        s += LineChart(title: "Extents collapsed", xLabel: xLabel, yLabel: "collapsed (% of extents)",
                       series: series { $0.total == 0 ? nil : 100 * Double($0.collapsed) / Double($0.total) }, yMax: 100, numericX: true).svg()
        s += LineChart(title: "Time to full coverage", xLabel: xLabel, yLabel: "time (ms)",
                       series: series { $0.fullCoverageMs ?? $0.latency?.medianMs }, yMax: nil, numericX: true).svg()
        s += tradeOff(r) + benefitCurve(r)
        if r.points.isEmpty { s += "<p class=\"muted\">No point was measured: the sweep is empty.</p>" }
        let bloat = r.points.contains { $0.bloat != nil }, benefit = r.points.contains { $0.benefit != nil }
        s += HTML.table(r.axes.map { short($0.name) } + ["collapsed", "expected", "full coverage"]
                        + (bloat ? ["zeros added", "given back", "split (expected)"] : [])
                        + (benefit ? ["added per extent", "chase ns before -> after", "speedup (~: not measurable)", "net of the control"] : []) + ["ok"],
                        r.points.map { p in
            r.axes.map { HTML.escape(p.knobs[$0.name] ?? "-") } + ["\(p.collapsed)/\(p.total)", "\(p.expectedCollapsed)",
                p.fullCoverageMs.map { String(cFormat: "%.1f ms", $0) } ?? "-"]
                + (bloat ? [p.bloat.map { FolioSizes.kB($0.addedKB) } ?? "-", p.bloat?.returnedKB.map { FolioSizes.kB($0) } ?? "-",
                            p.bloat.map { "\($0.split) (\($0.expectedSplit))" } ?? "-"] : [])
                + (benefit ? SweepTextReport.benefitColumns(p.benefit).map(HTML.escape) : [])
                + [p.ok ? "<span class=\"ok\">yes</span>" : "<span class=\"bad\">no</span>"]
        })
        if !r.checks.isEmpty {
            s += "<h3>Checks</h3>" + HTML.table(["check", "held", "detail"], r.checks.map {
                [HTML.escape($0.name), $0.held ? "<span class=\"ok\">held</span>" : "<span class=\"bad\">broken</span>", HTML.escape($0.detail)]
            })
        }
        return s + HTMLExperiments.outcome(r.ok, r.differences, [])
    }

    /// benefit: the speedup bought against the memory added per extent, one
    /// curve per touched value, each point labelled with its knobs; then the
    /// sentence per point.
    static func benefitCurve(_ r: SweepResult) -> String {
        let points = r.points.filter { $0.benefit != nil }
        guard !points.isEmpty else { return "" }
        let knobs = r.axes.filter(\.isKnob).map(\.name)
        func label(_ p: SweepPoint) -> String { knobs.map { "\(short($0))=\(p.knobs[$0] ?? "?")" }.joined(separator: " ") }
        let byTouched = Dictionary(grouping: points) { $0.benefit!.touched }
        let series = byTouched.keys.sorted().map { t -> LineChart.Series in
            let sorted = byTouched[t]!.sorted { $0.benefit!.addedKB < $1.benefit!.addedKB }
            return LineChart.Series(name: "touched \(t)/512", points: sorted.map { p in
                (String(cFormat: "%.2f", Double(p.benefit!.addedPerExtentKB) / 1024), p.benefit!.speedup)
            }, labels: sorted.map(label))
        }
        var s = LineChart(title: "Speedup bought against memory added", xLabel: "memory the collapse added per 2 MiB extent (MiB)",
                          yLabel: "chase speedup (x, small pages = 1)", series: series, yMax: nil, numericX: true).svg()
        s += "<h3>What each point buys and costs</h3><ul>"
        for p in points { s += "<li><b>\(HTML.escape(label(p)))</b>: \(HTML.escape(p.benefit!.sentence))</li>" }
        s += "</ul><p class=\"muted\">The chase is a dependent random walk over the touched pages only, timed \(points[0].benefit!.rounds) times before the collapse and after it; a speedup whose rounds overlap is not measurable.</p>"
        return s
    }

    /// bloat: coverage won against the memory it cost, one curve per
    /// touched value (each marker a point of the knob axes), and the
    /// sentence per point.
    static func tradeOff(_ r: SweepResult) -> String {
        let points = r.points.filter { $0.bloat != nil }
        guard !points.isEmpty else { return "" }
        let byTouched = Dictionary(grouping: points) { $0.bloat!.touched }
        let series = byTouched.keys.sorted().map { t -> LineChart.Series in
            let sorted = byTouched[t]!.sorted { $0.bloat!.addedKB < $1.bloat!.addedKB }
            return LineChart.Series(name: "touched \(t)/512", points: sorted.map { p in
                (String(cFormat: "%.2f", Double(p.bloat!.addedKB) / 1024), p.coveragePercent)
            })
        }
        var s = LineChart(title: "Coverage won against memory added", xLabel: "zeros made resident by the collapse (MiB)",
                          yLabel: "PMD coverage (%)", series: series, yMax: 100, numericX: true).svg()
        let knobs = r.axes.filter(\.isKnob).map(\.name)
        s += "<h3>What each point buys and costs</h3><ul>"
        for p in points {
            let at = (knobs.map { "\(short($0))=\(p.knobs[$0] ?? "?")" } + ["touched=\(p.bloat!.touched)"]).joined(separator: " ")
            s += "<li><b>\(HTML.escape(at))</b>: \(HTML.escape(p.bloat!.sentence))</li>"
        }
        return s + "</ul>"
    }
}
