/// `thplab matrix`: one column per kernel, states coloured, rows where the
/// kernels disagree marked.
enum HTMLMatrix {
    static func render(_ m: MatrixResult) -> String {
        var s = "<h2>kernel matrix: run \(HTML.escape(m.arguments.joined(separator: " ")))</h2>"
        let header = ["process", "role"] + m.columns.map { "\($0.label) (\($0.kernelRelease), \($0.how))" } + ["kernels agree"]
        s += HTML.table(header, m.rows.map { row in
            [HTML.escape(row.process), HTML.escape(row.role)] + row.cells.map { c in
                HTML.state(c.observed) + (c.met ? " <span class=\"ok\">met</span>" : " <span class=\"bad\">expected \(HTML.escape(c.expected ?? "-"))</span>")
                    + (c.reason.map { "<br><span class=\"muted\">\(HTML.escape($0))</span>" } ?? "")
            } + [row.disagree ? "<span class=\"bad\">≠ differ</span>" : "yes"]
        }, rowClass: { m.rows[$0].disagree ? "disagree" : nil })
        if !m.disagreements.isEmpty { s += "<h3>Where the kernels disagree</h3>" + HTML.list(m.disagreements) }
        return s + "<h3>Result: \(HTML.verdict(m.ok))</h3>"
    }
}
