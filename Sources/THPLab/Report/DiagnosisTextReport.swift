import Foundation

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
            let pids = Set(events[i..<j].map { $0.pid.map(String.init) ?? "?" }).sorted()
            let who = e.by == "khugepaged" ? "khugepaged" : "MADV_COLLAPSE"
            let span = j - i > 1 ? String(format: "%.3f-%.3f s", e.t, events[j - 1].t) : String(format: "%.3f s", e.t)
            let count = j - i > 1 ? " x\(j - i)" : ""
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
