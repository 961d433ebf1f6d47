/// `thplab battery` as text: one line per entry, the rows the model did not
/// expect, and (with `rows`) every row of the fingerprint.
public enum BatteryTextReport {
    public static func render(_ b: BatteryResult, rows all: Bool = false) -> String {
        var out = ["thplab battery: kernel \(b.kernelRelease), \(b.entries.count) run(s) in \(b.seconds) s"]
        var t = TextTable(header: ["ENTRY", "EXIT", "SECONDS", "ROWS", "NOT MET", ""])
        for e in b.entries {
            t.add([e.label, "\(e.exitCode)", "\(e.seconds)", "\(e.rows.count)", "\(e.rows.filter { !$0.met }.count)",
                   e.exitCode == 3 ? "cannot run here" : (e.ok ? "" : "failed")])
        }
        out.append("")
        out.append(t.render())
        for e in b.entries where e.exitCode != 0 {
            out.append("  \(e.label): \(e.note ?? "exit \(e.exitCode)")")
        }
        let shown = all ? b.rows : b.rows.filter { !$0.met }
        if !shown.isEmpty {
            out.append("")
            out.append(all ? "the fingerprint, row by row:" : "where this kernel did something else than its model expects:")
            var rows = TextTable(header: ["ENTRY", "SUBJECT", "OBSERVED", "EXPECTED", "RULE"])
            for r in shown { rows.add([r.group, r.subject, r.observed, r.expected ?? "-", r.rule ?? ""]) }
            out.append(rows.render(indent: "  "))
        }
        out.append("")
        out.append("fingerprint: \(b.rows.count) behaviour rows (--rows shows them); save it with --json F and compare two kernels with thplab diff A.json B.json")
        out.append(b.ok ? "RESULT: every run met its kernel's expectations (exit 3: could not run on this host)"
                        : "RESULT: some run did something else than its model expects")
        return out.joined(separator: "\n")
    }
}
