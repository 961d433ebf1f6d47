import ArgumentParser
import THPLab

/// `--pid`, `--comm`, `--cgroup` and `--all`, shared by the commands that
/// look at processes (snapshot, explain, watch, collapse).
struct TargetOptions: ParsableArguments {
    @Option(name: .customLong("pid"), help: "A process (repeatable).")
    var pids: [Int32] = []

    @Option(name: .customLong("comm"), help: ArgumentHelp("Every process with this command name, as `ps -e -o comm` shows it (repeatable).", valueName: "name"))
    var comms: [String] = []

    @Option(name: .customLong("cgroup"), help: ArgumentHelp("Every process of a cgroup and its descendants: a directory such as /sys/fs/cgroup/memory/NAME (v1) or /sys/fs/cgroup/unified/NAME (v2), or a path as /proc/PID/cgroup prints it (repeatable).", valueName: "path"))
    var cgroups: [String] = []

    @Flag(help: "Every process with a memory map (kernel threads and thplab itself are skipped). Needs root to read other users' processes; what cannot be read is named in a note.")
    var all = false

    func validate() throws {
        if let bad = pids.first(where: { $0 <= 0 }) { throw ValidationError("--pid \(bad) is not a process id") }
        if let bad = comms.first(where: { $0.isEmpty }) { throw ValidationError("--comm '\(bad)' is empty") }
        if let bad = cgroups.first(where: { $0.isEmpty }) { throw ValidationError("--cgroup '\(bad)' is empty") }
    }

    var targets: [ProcessTarget] {
        pids.map(ProcessTarget.pid) + comms.map(ProcessTarget.comm) + cgroups.map(ProcessTarget.cgroup) + (all ? [.all] : [])
    }

    var isEmpty: Bool { targets.isEmpty }

    /// Whether a target names processes by a rule (commands that change
    /// processes ask for --yes then).
    var isWide: Bool { targets.contains(where: \.isWide) }

    /// The single `--pid` when it is the only target.
    var singlePid: Int32? {
        if case .pid(let p)? = targets.first, targets.count == 1 { return p }
        return nil
    }
}
