import ArgumentParser
import THPLab

/// What every experiment's memory is made of, and how long it waits for
/// khugepaged: shared by `run retract` and the tuning scenarios.
struct ObjectArguments: ParsableArguments {
    @Option(help: "What the memory is: memfd (shmem, internal mount; the default), tmpfs (a private tmpfs thplab mounts), shm (a file in /dev/shm), file (a regular file in --dir), anon (private anonymous memory; not for retract; the default of bloat and shared).")
    var backing: Backing?

    @Option(help: "Bound on the khugepaged wait, in seconds.")
    var timeout: Int = 60

    @Option(help: "huge= option of thplab's own tmpfs (--backing tmpfs): never, always, within_size, advise.")
    var tmpfsHuge: TmpfsHuge = .advise

    @Option(help: "Directory for --backing file (default: the working directory).")
    var dir: String = "."

    @Flag(help: "Wait the whole --timeout even when no collapse is expected (by default the wait then ends once khugepaged has passed over its list twice).")
    var fullWait = false

    @Flag(help: "Show every huge_memory event of the run, other processes' too (by default they are only counted).")
    var allEvents = false

    /// The shared option group of any experiment, from these arguments.
    func apply(to c: inout ExperimentOptions, defaultBacking: Backing = .memfd) {
        c.backing = backing ?? defaultBacking
        c.timeoutSeconds = timeout
        c.tmpfsHuge = tmpfsHuge
        c.directory = dir
        c.fullWait = fullWait
        c.allEvents = allEvents
    }
}
