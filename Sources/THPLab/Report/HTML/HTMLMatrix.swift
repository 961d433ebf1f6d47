/// `thplab matrix`: one column per kernel, states coloured, rows where the
/// kernels disagree marked.
enum HTMLMatrix {
    static func render(_ m: MatrixResult) -> String {
        var s = "<h2>kernel matrix: thplab \(HTML.escape(m.arguments.joined(separator: " ")))</h2>"
        let header = (Array(m.arguments.prefix(2)) == ["run", "retract"] ? ["process", "role"] : ["group", "subject"]) + m.columns.map { "\($0.label) (\($0.kernelRelease), \($0.how))" } + ["kernels agree"]
        s += HTML.table(header, m.rows.map { row in
            [HTML.escape(row.process), HTML.escape(row.role)] + row.cells.map { c in
                HTML.state(c.observed) + (c.met ? " <span class=\"ok\">met</span>" : " <span class=\"bad\">expected \(HTML.escape(c.expected ?? "-"))</span>")
                    + (c.reason.map { "<br><span class=\"muted\">\(HTML.escape($0))</span>" } ?? "")
            } + [row.disagree ? "<span class=\"bad\">≠ differ</span>" : "yes"]
        }, rowClass: { m.rows[$0].disagree ? "disagree" : nil })
        if !m.disagreements.isEmpty { s += "<h3>Where the kernels disagree</h3>" + HTML.list(m.disagreements) }
        if !m.findings.isEmpty { s += "<h3>Findings: a kernel did what its model did not expect</h3>" + HTML.list(m.findings) }
        return s + "<h3>Result: \(HTML.verdict(m.ok))</h3>"
    }
}

/// A battery's fingerprint, and the diff of two.
enum HTMLBehaviour {
    static func battery(_ b: BatteryResult) -> String {
        var s = "<h2>battery on \(HTML.escape(b.kernelRelease))</h2>"
        s += HTML.table(["entry", "exit", "seconds", "note"], b.entries.map {
            [HTML.escape($0.label), "\($0.exitCode)", "\($0.seconds)", HTML.escape($0.note ?? "")]
        })
        s += HTML.table(["entry", "subject", "observed", "expected", "rule"], b.rows.map {
            [HTML.escape($0.group), HTML.escape($0.subject), HTML.state($0.observed), HTML.escape($0.expected ?? "-"), HTML.escape($0.rule ?? "")]
        }, rowClass: { b.rows[$0].met ? nil : "disagree" })
        return s + "<h3>Result: \(HTML.verdict(b.ok))</h3>"
    }

    static func diff(_ d: BehaviourDiffResult) -> String {
        var s = "<h2>behaviour diff: \(HTML.escape(d.kernelBefore)) → \(HTML.escape(d.kernelAfter))</h2>"
        s += "<p>\(d.changes.count) row(s) changed, \(d.unchanged) the same</p>"
        return s + HTML.table(["entry", "subject", "before", "after", "rule before", "rule after"], d.changes.map {
            [HTML.escape($0.group), HTML.escape($0.subject), HTML.state($0.before), HTML.state($0.after),
             HTML.escape($0.ruleBefore ?? ""), HTML.escape($0.ruleAfter ?? "")]
        }, rowClass: { d.changes[$0].explained ? nil : "disagree" })
    }
}
