/// `thplab sweep` as text.
public enum SweepTextReport {
    public static func render(_ r: SweepResult) -> String {
        let touched = r.axes.contains { !$0.isKnob } ? "" : ", \(r.options.present)/512 pages \(r.options.scenario.rules.presentWord)"
        var out = ["thplab sweep \(r.scenario.rawValue): kernel \(r.kernelRelease), \(r.options.backing.rawValue), \(r.options.extents) extent(s)\(touched), trigger \(r.options.trigger.rawValue), \(r.repeatCount) run(s) per point"]
        let names = r.axes.map(\.name)
        let bloat = r.points.contains { $0.bloat != nil }, benefit = r.points.contains { $0.benefit != nil }
        var t = TextTable(header: names.map { String($0.split(separator: "/").last!) } + ["COLLAPSED", "EXPECTED", "PMD%"]
                          + (benefit ? ["ADDED/EXTENT", "CHASE ns before -> after", "SPEEDUP", "NET"]
                             : bloat ? ["ZEROS ADDED", "GIVEN BACK", "SPLIT (expected)", "FULL"] : ["LATENCY median/min/max", "FULL"]) + ["OK"])
        for p in r.points {
            let full = p.fullCoverageMs.map { String(cFormat: "%.1f ms", $0) } ?? "-"
            let lat = p.latency.map { String(cFormat: "%.1f/%.1f/%.1f ms", $0.medianMs, $0.minMs, $0.maxMs) } ?? "-"
            let middle = benefit ? benefitColumns(p.benefit) : bloat
                ? [p.bloat.map { FolioSizes.kB($0.addedKB) } ?? "-", p.bloat?.returnedKB.map { FolioSizes.kB($0) } ?? "-",
                   p.bloat.map { "\($0.split) (\($0.expectedSplit))" } ?? "-", full]
                : [lat, full]
            t.add(names.map { p.knobs[$0] ?? "" } + ["\(p.collapsed)/\(p.total)", "\(p.expectedCollapsed)",
                  SnapshotTextReport.format1(p.coveragePercent)] + middle + [p.ok ? "ok" : "DIFFERENT"])
        }
        out.append("")
        out.append(t.render())
        if bloat || benefit {
            out.append("")
            out.append("what each point buys and costs:")
            for p in r.points {
                guard let sentence = p.benefit?.sentence ?? p.bloat?.sentence else { continue }
                // benefit's sentence starts with the pages touched.
                let shown = names.filter { p.benefit == nil || $0 != SweepAxis.touchedName }
                let at = shown.map { "\(String($0.split(separator: "/").last!))=\(p.knobs[$0] ?? "")" }.joined(separator: " ")
                out.append("  " + at + (at.isEmpty ? "" : p.benefit == nil ? ": " : ", ") + sentence)
            }
        }
        for n in r.notes ?? [] { out.append("note: " + n) }
        for c in r.checks { out.append("check \(c.name): \(c.held ? "held" : "FAILED") - \(c.detail)") }
        out.append(contentsOf: RetractTextReport.resultLines(ok: r.ok, differences: r.differences))
        return out.joined(separator: "\n")
    }

    /// benefit: the memory added per extent, the chase's medians, the speedup
    /// ("~" when the rounds overlap: not measurable), and the speedup net of
    /// the small-page control's change.
    static func benefitColumns(_ b: AccessTradeoff?) -> [String] {
        guard let b else { return ["-", "-", "-", "-"] }
        let chase = b.before.flatMap { x in b.after.map { String(cFormat: "%.1f -> %.1f", x.medianNs, $0.medianNs) } } ?? "-"
        let speedup = b.speedup.map { String(cFormat: "%.2fx", $0) + (b.measurable == false ? " ~" : "") } ?? "-"
        return [FolioSizes.kB(b.addedPerExtentKB), chase, speedup, b.netSpeedup.map { String(cFormat: "%.2fx", $0) } ?? "-"]
    }
}
