/// Runs `run retract` from start to end under the host guard: validate,
/// take the lock, run, put every knob and resource back, and check that
/// they really are back.
public enum RetractRunner {
    public static func run(options: RetractOptions, executable: String,
                           log: @escaping (String) -> Void,
                           progress: (ExperimentProgress) -> Void) throws -> RetractResult {
        let experiment = RetractExperiment(options: options, executable: executable)
        try experiment.checkHost()
        let available = ProcCounters.parseMeminfo(FileIO.readIfPresent("/proc/meminfo") ?? "")["MemAvailable"]
        try options.validate(memAvailableKB: available)
        let guardian = try HostGuard.acquire(command: "run retract", log: log)
        let result: RetractResult
        do {
            result = try experiment.run(guardian: guardian, progress: progress)
        } catch {
            for line in guardian.release() { log(line) }
            throw error
        }
        let undone = guardian.release()
        return finish(result, undone: undone, knobsAfter: experiment.sysfs.readAll().mapValues(\.current))
    }

    /// Records the knobs after the run and flags any that did not come back.
    static func finish(_ r: RetractResult, undone: [String], knobsAfter: [String: String]) -> RetractResult {
        var r = r
        r.knobsAfter = knobsAfter
        for (name, before) in r.knobsBefore.sorted(by: { $0.key < $1.key }) where knobsAfter[name] != before {
            r.differences.append("knob \(name) was \(before) before the run and is \(knobsAfter[name] ?? "gone") after it")
        }
        for line in undone where line.hasPrefix("FAILED") { r.differences.append("cleanup: " + line) }
        r.ok = r.differences.isEmpty
        return r
    }
}
