
/// `thplab collapse` as text: the summary line, one line per skip reason,
/// the attempts that did not end PMD-mapped (grouped by cause), the diff.
public enum CollapseTextReport {
    public static func render(_ r: CollapseResult, all: Bool = false) -> String {
        let size = SnapshotTextReport.size
        let who = (r.pids ?? [r.pid]).count == 1 ? "pid \(r.pid)" : "\((r.pids ?? []).count) processes (\((r.targets ?? []).joined(separator: " ")))"
        let planned = r.planned ?? r.attempts.count
        let skipped = (r.skipped ?? []).reduce(0) { $0 + $1.extents }
        var out: [String] = []
        let seconds = r.seconds.map { " in " + String(cFormat: "%.2f s", $0) } ?? ""
        if r.dryRun == true {
            out.append("MADV_COLLAPSE plan for \(who): \(planned) extent(s) to attempt, \(skipped) skipped (dry run: nothing sent to the kernel)")
        } else {
            let failed = r.notPmdMapped ?? r.refused
            var parts = [r.attempts.isEmpty ? "nothing attempted" : "\(r.succeeded) collapsed"]
            if failed > 0 { parts.append("\(failed) not PMD-mapped afterwards") }
            parts.append(contentsOf: (r.skipped ?? []).map { "\($0.extents) skipped: \(shortText($0.reason))" })
            out.append("MADV_COLLAPSE in \(who): " + parts.joined(separator: ", ") + seconds)
        }
        for g in r.skipped ?? [] {
            out.append("  skipped \(g.extents) extent(s) (\(size(g.residentKB)) resident): \(g.text)")
        }
        if r.dryRun == true {
            for s in (r.plan ?? []).prefix(all ? Int.max : 10) {
                out.append("  would attempt pid \(s.pid) \(range(s.start, s.end)): \(s.extents) extent(s), \(size(s.residentKB)) resident")
            }
            if !all, (r.plan ?? []).count > 10 { out.append("  (+\((r.plan ?? []).count - 10) more runs: --json has them all)") }
            if planned > 0 { out.append("  run without --dry-run to collapse them") }
        }
        let bad = r.attempts.filter { $0.pmdMappedAfter != true }
        if !bad.isEmpty {
            let groups = Dictionary(grouping: bad) { "\($0.errnoName ?? ($0.errno == 0 ? "0" : "\($0.errno)")): \($0.cause ?? $0.meaning)" }
            for (cause, list) in groups.sorted(by: { $0.value.count > $1.value.count }) {
                let first = list[0]
                out.append("  \(list.count) extent(s) not PMD-mapped, \(cause) (first: \(first.pid.map { "pid \($0) " } ?? "")\(range(first.start, first.end)))")
            }
        }
        if all && !r.attempts.isEmpty {
            var t = TextTable(header: ["PID", "EXTENT", "RESULT", "PMD AFTER", "MEANING"])
            for a in r.attempts {
                t.add(["\(a.pid ?? r.pid)", range(a.start, a.end), a.errno == 0 ? "0" : a.errnoName ?? "\(a.errno)",
                       a.pmdMappedAfter.map { $0 ? "yes" : "no" } ?? "?", a.cause ?? a.meaning])
            }
            out.append(t.render(indent: "  "))
        }
        if r.dryRun != true {
            let diffs = r.diffs ?? [r.diff]
            if !diffs.allSatisfy({ $0.vmas.isEmpty }) {
                out.append("")
                out.append(DiffTextReport.render(DiffResult(beforeTakenAt: 0, afterTakenAt: 0, processes: diffs, notes: []), all: false))
            }
        }
        if let m = r.measure { out.append(contentsOf: measureLines(m)) }
        out.append(contentsOf: (r.notes ?? []).map { "note: \($0)" })
        return out.joined(separator: "\n")
    }

    /// The user's command before and after: its own figure line side by
    /// side, or its wall time when it printed none.
    static func measureLines(_ m: CollapseMeasure) -> [String] {
        func line(_ r: MeasureRun) -> String {
            if r.exitCode != 0 { return "failed (\(r.exitCode < 0 ? "" : "exit \(r.exitCode): ")\(r.errorLine ?? "no message"))" }
            return (r.figure ?? "no figure printed") + String(cFormat: "  (%.2f s)", r.seconds)
        }
        let command = m.command.map { $0.contains(where: { $0 == " " || $0 == "\t" }) || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
        var out = ["", "measure: " + command, "  before: " + line(m.before)]
        guard let after = m.after else { return out }
        out.append("  after:  " + line(after))
        if m.before.figure == nil && after.figure == nil && after.exitCode == 0 && after.seconds > 0 {
            out.append(String(cFormat: "  wall time: %.2fx ", m.before.seconds / after.seconds)
                       + (m.before.seconds >= after.seconds ? "faster" : "slower") + " after the collapse (one run each: the noise is unknown)")
        }
        return out
    }

    static func shortText(_ k: CollapseSkip) -> String {
        switch k {
        case .alreadyPmd: return "already PMD-mapped"
        case .notResident: return "not resident"
        case .misaligned: return "misaligned"
        case .noHugepage: return "MADV_NOHUGEPAGE"
        case .copyOnWrite: return "copy-on-write pages"
        case .processDisabled: return "THP disabled for the process"
        case .regularFile: return "regular file"
        case .hugetlbOrSpecial: return "not THP memory"
        }
    }
}
