/// `thplab matrix` as a side-by-side table.
public enum MatrixTextReport {
    public static func render(_ m: MatrixResult) -> String {
        var out = ["thplab matrix: thplab " + m.arguments.joined(separator: " ")]
        for c in m.columns { out.append("  \(c.label): kernel \(c.kernelRelease) (\(c.how)), exit \(c.exitCode)\(c.ok ? "" : ", expectations not met")" + (c.note.map { ": " + $0 } ?? "")) }
        var t = TextTable(header: ["PROCESS", "ROLE"] + m.columns.map(\.label) + [""])
        for r in m.rows {
            let cells = r.cells.map { c in
                guard let o = c.observed else { return "-" }
                return c.met ? o : "\(o) (expected \(c.expected ?? "?"))"
            }
            t.add([r.process, r.role] + cells + [r.disagree ? "kernels differ" : ""])
        }
        out.append("")
        out.append(t.render())
        out.append(m.arguments.first == "doctor" ? "cells: what each kernel's own files and probes say (thplab doctor --json has the whole table)"
                   : "cells: state after every mapping touched every page again; * = MADV_COLLAPSE target")
        if !m.disagreements.isEmpty {
            out.append("")
            out.append("where the kernels differ, and why:")
            out.append(contentsOf: m.disagreements.map { "  - " + $0 })
        }
        if m.arguments.first == "doctor" {
            out.append(m.ok ? "RESULT: every kernel was probed" : "RESULT: some kernel could not be probed")
        } else {
            out.append(m.ok ? "RESULT: every kernel did what its version is expected to do" : "RESULT: some kernel did something else than expected")
        }
        return out.joined(separator: "\n")
    }
}
