/// Runs an experiment under the host guard: take the lock, run, put every
/// knob and resource back, and check that they really are back.
public enum GuardedRun {
    public struct Outcome<T> {
        public var result: T
        /// What the guard put back; lines starting with FAILED are problems.
        public var undone: [String]
        public var knobsAfter: [String: String]
    }

    public static func run<T>(command: String, sysfs: THPSysfs = THPSysfs(), log: @escaping (String) -> Void,
                              _ body: (HostGuard) throws -> T) throws -> Outcome<T> {
        let guardian = try HostGuard.acquire(command: command, log: log)
        let result: T
        do {
            result = try body(guardian)
        } catch {
            for line in guardian.release() { log(line) }
            throw error
        }
        let undone = guardian.release()
        return Outcome(result: result, undone: undone, knobsAfter: sysfs.readAll().mapValues(\.current))
    }

    /// Every knob not back to its value before the run, and every failed
    /// clean-up, as differences.
    public static func leftovers(before: [String: String], after: [String: String], undone: [String]) -> [String] {
        var out: [String] = []
        for (name, value) in before.sorted(by: { $0.key < $1.key }) where after[name] != value {
            out.append("knob \(name) was \(value) before the run and is \(after[name] ?? "gone") after it")
        }
        for line in undone where line.hasPrefix("FAILED") { out.append("cleanup: " + line) }
        return out
    }
}

/// `run retract` from start to end.
public enum RetractRunner {
    public static func run(options: RetractOptions, executable: String,
                           log: @escaping (String) -> Void,
                           progress: (ExperimentProgress) -> Void) throws -> RetractResult {
        let experiment = RetractExperiment(options: options, executable: executable)
        try experiment.checkHost()
        let available = ProcCounters.parseMeminfo(FileIO.readIfPresent("/proc/meminfo") ?? "")["MemAvailable"]
        try options.validate(memAvailableKB: available)
        let o = try GuardedRun.run(command: "run retract", log: log) { try experiment.run(guardian: $0, progress: progress) }
        var r = o.result
        r.knobsAfter = o.knobsAfter
        r.differences += GuardedRun.leftovers(before: r.knobsBefore, after: o.knobsAfter, undone: o.undone)
        r.ok = r.differences.isEmpty
        return r
    }
}

/// `run collapse|sparse|latency` from start to end.
public enum RegionRunner {
    public static func run(options: RegionOptions, pinned: Set<String> = [], log: @escaping (String) -> Void,
                           progress: (ExperimentProgress) -> Void) throws -> RegionResult {
        try HostChecks.requireRootAndTHP(trigger: options.trigger)
        let available = ProcCounters.parseMeminfo(FileIO.readIfPresent("/proc/meminfo") ?? "")["MemAvailable"]
        try options.validate(memAvailableKB: available, topology: NumaTopology.read())
        let o = try GuardedRun.run(command: "run \(options.scenario.rawValue)", log: log) {
            try RegionExperiment(options: options, pinned: pinned).run(guardian: $0, progress: progress)
        }
        var r = o.result
        r.knobsAfter = o.knobsAfter
        r.differences += GuardedRun.leftovers(before: r.knobsBefore, after: o.knobsAfter, undone: o.undone)
        r.ok = r.differences.isEmpty
        return r
    }
}
