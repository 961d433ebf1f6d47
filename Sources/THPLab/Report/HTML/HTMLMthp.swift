/// `run mthp` as an HTML section, and the per-size counters table every
/// result with counter deltas shows.
extension HTMLExperiments {
    static func mthp(_ r: MthpResult) -> String {
        var s = "<h2>run mthp</h2>"
        var facts: [(String, String)] = [("kernel", r.kernelRelease)]
        for (m, p) in r.policies.sorted(by: { $0.key < $1.key }) { facts.append(("policies for \(m)", p)) }
        if let w = r.swap { facts.append(("swap", w + (r.swapRotational.map { $0 ? " (rotational)" : " (non-rotational)" } ?? ""))) }
        s += HTML.facts(facts) + knobsChanged(r.knobsChanged)
        for m in r.steps.map(\.memory).uniqued() {
            s += "<h3>\(HTML.escape(m.rawValue))</h3>"
            let steps = r.steps.filter { $0.memory == m }
            s += HTML.table(["step", "VMA", "before", "after", "model", "counters moved", "rule"], steps.map { step in
                let cells = MthpTextReport.row(step)
                return cells.enumerated().map { i, c in i == 4 && step.ok ? "<span class=\"ok\">\(HTML.escape(c))</span>" : HTML.escape(c) }
                    + [HTML.escape(step.rule)]
            })
        }
        s += perSize(r.deltas.perSize, title: "Per-size counters over the run (whole system)", movedOnly: true)
        return s + outcome(r.ok, r.differences, r.notes)
    }

    static func mthpSweep(_ r: MthpSweepResult) -> String {
        var s = "<h2>sweep mthp</h2>" + HTML.facts([("kernel", r.kernelRelease), ("points", "\(r.points.count)"),
                                                    ("axes", r.axes.map { "\($0.name)=\($0.values.joined(separator: ","))" }.joined(separator: " "))])
        for m in r.points.flatMap({ $0.steps.map(\.memory) }).uniqued() {
            s += "<h3>\(HTML.escape(m.rawValue)): folio sizes at fault by policy (all five VMAs)</h3>"
            s += FolioBars(rows: r.points.map { p in
                var pages: [Int: Int] = [:]
                for st in p.steps where st.memory == m && st.phase == .fault {
                    for (k, v) in MthpSteps.unkeyed(st.seen) { pages[k, default: 0] += v }
                }
                return (p.knobs.sorted { $0.key < $1.key }.map { "\($0.key.replacing("hugepages-", with: ""))=\($0.value)" }.joined(separator: " "), pages)
            }).svg()
        }
        s += HTML.table(["check", "held", "detail"], r.checks.map { [HTML.escape($0.name), HTML.verdict($0.held), HTML.escape($0.detail)] })
        return s + outcome(r.ok, r.differences, [])
    }

    /// One row per folio size, one column per counter; `-` where the
    /// kernel has no such counter for the size.
    static func perSize(_ stats: PerSizeStats?, title: String, movedOnly: Bool) -> String {
        let head = "<h3>\(HTML.escape(title))</h3>"
        guard let stats else { return head + "<p class=\"muted\">\(HTML.escape(PerSizeTable.absent))</p>" }
        guard let g = PerSizeTable.grid(stats, movedOnly: movedOnly) else { return head + "<p class=\"muted\">No counter moved.</p>" }
        return head + HTML.table(g.header, g.rows.map { $0.map(HTML.escape) })
    }
}

/// One horizontal bar per row, split by folio size: base pages grey,
/// PMD-sized green, mTHP on the blue scale by size.
struct FolioBars {
    var rows: [(label: String, pages: [Int: Int])]

    func svg() -> String {
        let labelWidth = 330.0, barWidth = 480.0, height = 16.0
        var body = "", y = 4.0, sizes = Set<Int>()
        for r in rows {
            let total = Double(max(1, r.pages.values.reduce(0, +)))
            var x = labelWidth
            body += "<text x=\"0\" y=\"\(y + 12)\">\(HTML.escape(String(r.label.prefix(48))))</text>"
            for size in r.pages.keys.sorted(by: >) {
                let w = barWidth * Double(r.pages[size]!) / total
                let fill = size == PageGeometry.pageKB ? HTML.classColors[.small]! : size >= PageGeometry.pmdSize / 1024 ? HTML.classColors[.pmd]! : HTML.mthpColor(sizeKB: size)
                if size > PageGeometry.pageKB && size < PageGeometry.pmdSize / 1024 { sizes.insert(size) }
                body += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(height)\" fill=\"\(fill)\"><title>\(FolioSizes.kB(size)): \(r.pages[size]!) pages</title></rect>"
                x += w
            }
            y += height + 6
        }
        return "<svg class=\"folio-bars\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(labelWidth + barWidth + 10))\" height=\"\(Int(y + 4))\">\(body)</svg>"
            + "<p class=\"legend\"><span><i class=\"swatch\" style=\"background:\(HTML.classColors[.small]!)\"></i>base pages</span><span><i class=\"swatch\" style=\"background:\(HTML.classColors[.pmd]!)\"></i>PMD-sized</span></p>"
            + HTML.mthpLegend(Array(sizes))
    }
}
