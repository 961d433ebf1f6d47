
/// The per-extent reasons and event sequences, and the tracepoint summary,
/// as text: shared by every experiment's report.
enum DiagnosisTextReport {
    /// "LABEL: reason" then the events, runs of the same event and result
    /// folded into one line.
    static func extentLines(_ label: String, _ d: ExtentDiagnosis) -> [String] {
        var out = ["  \(label): \(d.reason)\(d.inferred ? " [inferred]" : "")"]
        for run in folded(d.events) { out.append("      " + run) }
        return out
    }

    static func folded(_ events: [DiagnosedEvent]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < events.count {
            let e = events[i]
            var j = i + 1
            while j < events.count && events[j].event == e.event && events[j].result == e.result && events[j].by == e.by { j += 1 }
            let pids = Set(events[i..<j].flatMap { e in e.pids ?? [e.pid ?? -1] }).sorted().map { $0 < 0 ? "?" : String($0) }
            let who = e.by == "khugepaged" ? "khugepaged" : "MADV_COLLAPSE"
            let n = events[i..<j].reduce(0) { $0 + ($1.count ?? 1) }
            let end = events[j - 1].tLast ?? events[j - 1].t
            let span = n > 1 ? String(cFormat: "%.3f-%.3f s", e.t, end) : String(cFormat: "%.3f s", e.t)
            let count = n > 1 ? " x\(n)" : ""
            var detail = ""
            if let p = e.details["present"] { detail = " present=\(p)" }
            else if let n = e.details["none_or_zero"] { detail = " none_or_zero=\(n)" }
            out.append("\(span)  \(e.event) \(e.result ?? "")\(count)\(detail)  (\(who), pid \(pids.joined(separator: ",")))")
            i = j
        }
        return out
    }

    static func summary(_ t: TraceSummary) -> String {
        var s = "tracepoints: \(t.ours) event(s) of this run"
        if t.others > 0 { s += t.otherEvents == nil ? ", \(t.others) of other processes (not shown; --all-events shows them)" : ", \(t.others) of other processes (below)" }
        if t.lost > 0 { s += "; \(t.lost) lost to a full ring buffer" }
        if !t.processes.isEmpty {
            s += "; processes by mm: " + t.processes.sorted { $0.value < $1.value }.map { "\($0.value)=\($0.key)" }.joined(separator: " ")
        }
        return s
    }

    static func otherLines(_ t: TraceSummary) -> [String] {
        guard let others = t.otherEvents, !others.isEmpty else { return [] }
        return ["other processes' events:"] + folded(others).map { "  " + $0 }
    }
}
