/// Runs an experiment under the host guard: take the lock, run, put every
/// knob and resource back, and check that they really are back.
public enum GuardedRun {
    public struct Outcome<T> {
        public var result: T
        /// What the guard put back, and what it could not.
        public var undone: [CleanupStep]
        public var knobsAfter: [String: String]
    }

    public static func run<T>(command: String, sysfs: THPSysfs = THPSysfs(), log: @escaping (String) -> Void,
                              _ body: (HostGuard) throws -> T) throws -> Outcome<T> {
        let guardian = try HostGuard.acquire(command: command, log: log)
        let result: T
        do {
            result = try body(guardian)
        } catch {
            for step in guardian.release() { log(step.description) }
            throw error
        }
        let undone = guardian.release()
        return Outcome(result: result, undone: undone, knobsAfter: sysfs.readAll().mapValues(\.current))
    }

    /// Every knob not back to its value before the run, and every failed
    /// clean-up, as differences.
    public static func leftovers(before: [String: String], after: [String: String], undone: [CleanupStep]) -> [String] {
        var out: [String] = []
        for (name, value) in before.sorted(by: { $0.key < $1.key }) where after[name] != value {
            out.append("knob \(name) was \(value) before the run and is \(after[name] ?? "gone") after it")
        }
        for step in undone where step.failed { out.append("cleanup: \(step)") }
        return out
    }
}

/// A result that the guarded run finishes: the knobs after the run, and
/// every knob not put back or clean-up that failed, as differences.
public protocol GuardedResult {
    var knobsBefore: [String: String] { get }
    var knobsAfter: [String: String] { get set }
    var differences: [String] { get set }
    var ok: Bool { get set }
}

extension GuardedRun {
    /// An experiment from start to end: the host checks, the options'
    /// checks, the run under the guard, and the result finished with what
    /// the guard found.
    public static func experiment<R: GuardedResult>(command: String, trigger: Trigger, validate: () throws -> Void,
                                                    log: @escaping (String) -> Void,
                                                    _ body: (HostGuard) throws -> R) throws -> R {
        try HostChecks.requireRootAndTHP(trigger: trigger)
        try validate()
        let o = try run(command: command, log: log, body)
        var r = o.result
        r.knobsAfter = o.knobsAfter
        r.differences += leftovers(before: r.knobsBefore, after: o.knobsAfter, undone: o.undone)
        r.ok = r.differences.isEmpty
        return r
    }
}

extension RetractResult: GuardedResult {}
extension RegionResult: GuardedResult {}

/// `run retract` from start to end.
public enum RetractRunner {
    public static func run(options: RetractOptions, executable: String, log: @escaping (String) -> Void,
                           progress: @escaping (ExperimentProgress) -> Void) throws -> RetractResult {
        try GuardedRun.experiment(command: "run retract", trigger: options.trigger,
                                  validate: { try options.validate(room: MemoryRoom.read()) }, log: log) {
            try RetractExperiment(options: options, executable: executable).run(guardian: $0, progress: progress)
        }
    }
}

/// `run collapse|sparse|latency|swap|numa` from start to end.
public enum RegionRunner {
    /// - Parameter executable: thplab's binary, for worker processes (a
    ///   test running the library in its own process names it).
    public static func run(options: RegionOptions, pinned: Set<Knob> = [], executable: String? = nil,
                           log: @escaping (String) -> Void,
                           progress: @escaping (ExperimentProgress) -> Void) throws -> RegionResult {
        try GuardedRun.experiment(command: "run \(options.scenario.rawValue)", trigger: options.trigger,
                                  validate: { try options.validate(room: MemoryRoom.read(), topology: NumaTopology.read()) },
                                  log: log) {
            var experiment = RegionExperiment(options: options, pinned: pinned)
            if let executable { experiment.executable = executable }
            return try experiment.run(guardian: $0, progress: progress)
        }
    }
}
