/// `thplab matrix` as a side-by-side table.
public enum MatrixTextReport {
    /// Past this many rows only the rows where kernels differ or missed
    /// their model are shown, unless `all`.
    static let screenRows = 30

    public static func render(_ m: MatrixResult, all: Bool = false) -> String {
        var out = ["thplab matrix: thplab " + m.arguments.joined(separator: " ")]
        for c in m.columns { out.append("  \(c.label): kernel \(c.kernelRelease) (\(c.how)), exit \(c.exitCode)\(c.ok ? "" : ", not ok")" + (c.note.map { ": " + $0 } ?? "")) }
        let retract = Array(m.arguments.prefix(2)) == ["run", "retract"]
        var t = TextTable(header: (retract ? ["PROCESS", "ROLE"] : ["GROUP", "SUBJECT"]) + m.columns.map(\.label) + [""])
        let interesting = m.rows.filter { $0.disagree || $0.cells.contains { !$0.met } }
        let shown = all || m.rows.count <= screenRows ? m.rows : interesting
        for r in shown {
            let cells = r.cells.map { c in
                guard let o = c.observed else { return "-" }
                return c.met ? o : "\(o) (expected \(c.expected ?? "?"))"
            }
            t.add([r.process, r.role] + cells + [r.disagree ? "kernels differ" : ""])
        }
        out.append("")
        out.append(m.rows.isEmpty ? "no rows: no kernel gave a result (each column's note says why)"
                   : shown.isEmpty ? "every kernel did the same in all \(m.rows.count) rows" : t.render())
        if shown.count < m.rows.count {
            out.append("(\(m.rows.count - shown.count) more row(s) where every kernel did the same and met its model: --all shows them)")
        }
        out.append(footnote(m.arguments))
        if !m.disagreements.isEmpty {
            out.append("")
            out.append("where the kernels differ, and why:")
            out.append(contentsOf: m.disagreements.map { "  - " + $0 })
        }
        if !m.findings.isEmpty {
            out.append("")
            out.append("findings (a kernel did what its model did not expect):")
            out.append(contentsOf: m.findings.map { "  - " + $0 })
        }
        if m.arguments.first == "doctor" {
            out.append(m.ok ? "RESULT: every kernel was probed" : "RESULT: some kernel could not be probed")
        } else {
            out.append(m.ok ? "RESULT: every kernel did what its version is expected to do" : "RESULT: some kernel did something else than expected, or could not run it")
        }
        return out.joined(separator: "\n")
    }

    static func footnote(_ arguments: [String]) -> String {
        switch arguments.first {
        case "doctor": return "cells: what each kernel's own files and probes say (thplab doctor --json has the whole table)"
        case "run" where arguments.dropFirst().first == ResultKind.retract.rawValue:
            return "cells: state after every mapping touched every page again; * = MADV_COLLAPSE target"
        default: return "cells: what each kernel did (collapsed/total extents, scan results, capabilities); a cell that missed its model shows the expectation"
        }
    }
}
