import Foundation

/// `thplab battery`: everything thplab knows how to run, each with its
/// defaults, one after another on this kernel, each a child thplab that
/// guards the host itself. Bounded: every run bounds its own waits.
public enum Battery {
    /// The capability table, retract under both triggers (plain, and with
    /// every extra mapping kind in three processes), and every region
    /// scenario with its defaults (a scenario added later joins here).
    public static var plan: [[String]] {
        var p: [[String]] = [["doctor"]]
        for trigger in Trigger.allCases {
            p.append(["run", "retract", "--trigger", trigger.rawValue])
            p.append(["run", "retract", "--trigger", trigger.rawValue, "--nohugepage", "--uffd-wp", "--processes", "3"])
        }
        return p + RegionOptions.Scenario.allCases.map { ["run", $0.rawValue] } + [["run", "mthp"]]
    }

    /// Runs the plan (or the entries whose label contains one of `only`).
    public static func run(only: [String] = [], log: (String) -> Void) throws -> BatteryResult {
        let chosen = plan.filter { entry in only.isEmpty || only.contains { entry.joined(separator: " ").contains($0) } }
        guard !chosen.isEmpty else {
            throw THPLabError.usage("--only \(only.joined(separator: ",")) matches no battery entry; they are: " + plan.map { $0.joined(separator: " ") }.joined(separator: "; "))
        }
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
