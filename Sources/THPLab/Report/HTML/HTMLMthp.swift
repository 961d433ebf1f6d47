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

    /// One row per folio size, one column per counter; `-` where the
    /// kernel has no such counter for the size.
    static func perSize(_ stats: PerSizeStats?, title: String, movedOnly: Bool) -> String {
        let head = "<h3>\(HTML.escape(title))</h3>"
        guard let stats else { return head + "<p class=\"muted\">\(HTML.escape(PerSizeTable.absent))</p>" }
        guard let g = PerSizeTable.grid(stats, movedOnly: movedOnly) else { return head + "<p class=\"muted\">No counter moved.</p>" }
        return head + HTML.table(g.header, g.rows.map { $0.map(HTML.escape) })
    }
}
