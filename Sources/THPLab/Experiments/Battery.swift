
/// `thplab battery`: everything thplab knows how to run, each with its
/// defaults, one after another on this kernel, each a child thplab that
/// guards the host itself. Bounded: every run bounds its own waits.
public enum Battery {
    /// The capability table, retract under both triggers (plain, and with
    /// every extra mapping kind in three processes), every region scenario
    /// with its defaults (a scenario added later joins here), mthp, and
    /// benefit at a small size (its states always; its one round of timings
    /// only where they mean something, none under software emulation).
    public static var plan: [[String]] {
        var p: [[String]] = [["doctor"]]
        for trigger in Trigger.allCases {
            p.append(["run", "retract", "--trigger", trigger.rawValue])
            p.append(["run", "retract", "--trigger", trigger.rawValue, "--nohugepage", "--uffd-wp", "--processes", "3"])
        }
        return p + RegionOptions.Scenario.allCases.map { ["run", $0.rawValue] } + [["run", "mthp"], benefit]
    }

    static let benefit = ["run", "benefit", "--size", "16M", "--rounds", "1", "--round-seconds", "0.05"]

    /// The entries to run: the whole plan when neither `only` nor `extra`
    /// is given; else the plan's entries whose label contains one of
    /// `only`, then each of `extra` (a thplab command of the caller's own,
    /// so that one boot of a guest serves many commands).
    public static func choose(only: [String], extra: [[String]]) throws -> [[String]] {
        if only.isEmpty && extra.isEmpty { return plan }
        var chosen: [[String]] = []
        for word in only {
            let matches = plan.filter { $0.joined(separator: " ").contains(word) }
            guard !matches.isEmpty else {
                throw THPLabError.usage("--only \(word) matches no battery entry; they are: " + plan.map { $0.joined(separator: " ") }.joined(separator: "; "))
            }
            chosen += matches.filter { !chosen.contains($0) }
        }
        for e in extra {
            let text = e.joined(separator: " ")
            guard let verb = e.first, ["run", "sweep", "doctor", "snapshot", "explain"].contains(verb) else {
                throw THPLabError.usage("--entry '\(text)': an entry is a thplab run, sweep, doctor, snapshot or explain command, e.g. --entry 'run sparse --present 256'")
            }
            guard !e.contains("--json") else { throw THPLabError.usage("--entry '\(text)': the battery gives each entry its own --json") }
            if !chosen.contains(e) { chosen.append(e) }
        }
        return chosen
    }

    /// Runs the entries `choose(only:extra:)` picks, in that order.
    public static func run(only: [String] = [], extra: [[String]] = [], log: (String) -> Void) throws -> BatteryResult {
        let chosen = try choose(only: only, extra: extra)
        let t0 = Sys.monotonicNanoseconds()
        var entries: [BatteryEntry] = []
        for (i, arguments) in chosen.enumerated() {
            let r = try OwnRun.run(arguments)
            let rows = r.result.flatMap(Behaviour.rows) ?? []
            let note = rows.isEmpty || r.exitCode >= 2 ? OwnRun.why(exitCode: r.exitCode, stderr: r.stderr) : nil
            entries.append(BatteryEntry(arguments: arguments, exitCode: r.exitCode, seconds: r.seconds, rows: rows, note: note, result: r.json))
            log("battery \(i + 1)/\(chosen.count): \(arguments.joined(separator: " ")): exit \(r.exitCode) in \(r.seconds) s" + (note.map { " (\($0))" } ?? ""))
        }
        let seconds = (Double(Sys.monotonicNanoseconds() - t0) / 1e8).rounded() / 10
        return BatteryResult(kernelRelease: Sys.uname().release, entries: entries, seconds: seconds)
    }
}
