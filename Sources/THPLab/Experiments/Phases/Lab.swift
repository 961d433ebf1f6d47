/// What every experiment carries from its first phase to its result: the
/// host guard, the knobs and counters as they were, the knob changes made
/// for the run, the notes, and the progress callback. One per run; the
/// phases take it, and `facts()` finishes every result the same way.
final class Lab {
    let guardian: HostGuard
    let sysfs: THPSysfs
    let release: String
    let kernel: KernelVersion
    let knobsBefore: [String: SysfsValue]
    let countersBefore: SystemCounters
    /// Knobs the run measures and so never changes (a sweep's axes,
    /// latency's khugepaged speed).
    let pinned: Set<Knob>
    let progress: (ExperimentProgress) -> Void
    private let runKnobs: RunKnobs
    var notes: [String] = []

    init(guardian: HostGuard, sysfs: THPSysfs, pinned: Set<Knob> = [], progress: @escaping (ExperimentProgress) -> Void) {
        self.guardian = guardian
        self.sysfs = sysfs
        self.pinned = pinned
        self.progress = progress
        release = Sys.uname().release
        kernel = KernelVersion(release: release) ?? KernelVersion(0, 0)
        knobsBefore = sysfs.readAll()
        countersBefore = SystemCounters.read(sysfs: sysfs)
        runKnobs = RunKnobs(guardian: guardian)
    }

    func step(_ text: String) { progress(.step(text)) }
    func note(_ text: String) { notes.append(text) }

    /// The knobs as they are now.
    func knobs() -> [String: SysfsValue] { sysfs.readAll() }

    /// Applies a plan through the guard (journaled), leaving pinned knobs alone.
    func apply(_ plan: [KnobPlan.Change]) throws {
        try runKnobs.apply(plan.filter { !pinned.contains(Knob(rawValue: $0.name)) }, progress: progress)
    }

    /// What the expectation model needs to know of this host.
    func context(backing: Backing, trigger: Trigger, shmemHuge: ShmemHuge?, madviseTimes: Int = 2) -> ExpectationContext {
        var c = ExpectationContext(kernel: kernel, backing: backing, trigger: trigger,
                                   readOnlyThpForFS: KernelConfig.load(release: release).isSet("CONFIG_READ_ONLY_THP_FOR_FS"),
                                   shmemHuge: shmemHuge, madviseTimes: madviseTimes)
        c.shmemPmdPolicy = knobs().value(.sizeShmemEnabled(kB: PageGeometry.pmdKB)).flatMap(SizeShmemPolicy.init(rawValue:))
        return c
    }

    /// The facts every result carries, taken at the end of the run.
    func facts() -> RunFacts {
        RunFacts(kernelRelease: release, knobsBefore: knobsBefore.mapValues(\.current), knobsChanged: runKnobs.changes,
                 deltas: SystemCounters.read(sysfs: sysfs).delta(since: countersBefore), notes: notes)
    }
}

/// The facts every experiment's result carries: the kernel, the knobs
/// before and what the run changed, the counters' deltas and the notes.
struct RunFacts {
    var kernelRelease: String
    var knobsBefore: [String: String]
    var knobsChanged: [KnobChange]
    var deltas: SystemCounters
    var notes: [String]
}
