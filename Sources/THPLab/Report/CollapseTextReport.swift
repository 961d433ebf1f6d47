/// `thplab collapse` as text.
public enum CollapseTextReport {
    public static func render(_ r: CollapseResult) -> String {
        var out = ["MADV_COLLAPSE in pid \(r.pid) over \(range(r.start, r.end)) (\(r.attempts.count) extent(s)): \(r.succeeded) succeeded, \(r.refused) refused"]
        var t = TextTable(header: ["EXTENT", "RESULT", "MEANING"])
        for a in r.attempts { t.add([range(a.start, a.end), a.errno == 0 ? "0" : a.errnoName ?? "\(a.errno)", a.meaning]) }
        out.append(t.render(indent: "  "))
        out.append("")
        out.append(DiffTextReport.render(DiffResult(beforeTakenAt: 0, afterTakenAt: 0, processes: [r.diff], notes: []), all: true))
        return out.joined(separator: "\n")
    }
}
