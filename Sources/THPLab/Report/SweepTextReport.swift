/// `thplab sweep` as text.
public enum SweepTextReport {
    public static func render(_ r: SweepResult) -> String {
        var out = ["thplab sweep \(r.scenario): kernel \(r.kernelRelease), \(r.options.backing.rawValue), \(r.options.extents) extent(s), \(r.options.present)/512 pages present, \(r.repeatCount) run(s) per point"]
        let names = r.axes.map(\.name)
        var t = TextTable(header: names.map { String($0.split(separator: "/").last!) } + ["COLLAPSED", "EXPECTED", "PMD%", "LATENCY median/min/max", "FULL", "OK"])
        for p in r.points {
            let lat = p.latency.map { String(format: "%.1f/%.1f/%.1f ms", $0.medianMs, $0.minMs, $0.maxMs) } ?? "-"
            t.add(names.map { p.knobs[$0] ?? "" } + ["\(p.collapsed)/\(p.total)", "\(p.expectedCollapsed)",
                  SnapshotTextReport.format1(p.coveragePercent), lat, p.fullCoverageMs.map { String(format: "%.1f ms", $0) } ?? "-",
                  p.ok ? "ok" : "DIFFERENT"])
        }
        out.append("")
        out.append(t.render())
        for c in r.checks { out.append("check \(c.name): \(c.held ? "held" : "FAILED") - \(c.detail)") }
        out.append(contentsOf: RetractTextReport.resultLines(ok: r.ok, differences: r.differences))
        return out.joined(separator: "\n")
    }
}
