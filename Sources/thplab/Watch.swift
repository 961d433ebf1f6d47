import ArgumentParser
import THPLab

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a process's THP coverage over time as a timeline.",
        discussion: """
            Every tick reads the VMA list and walks each VMA with PAGEMAP_SCAN (PMD-mapped, resident, \
            swapped), asking only for what is not a present small page, so that a process of small \
            pages costs the kernel half as much; the first and last samples (and every --full-every-th, if given) also classify every page \
            (pte-thp, mthp, small) as snapshot does, which costs a full page-table and kpageflags read. \
            Updates one line in place on a terminal, prints plain lines otherwise. Ctrl-C ends it and \
            still writes --json. With a target of several processes (--comm, --cgroup, --all, or \
            several --pid), each sample is their sum (shared memory counts in each process), and \
            only the quick figures are taken.
            """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Milliseconds between samples (at least 10).")
    var interval: Int = 1000

    @Option(help: "Stop after this many seconds (default: until Ctrl-C or the process exits).")
    var duration: Double?

    @Option(help: "Also classify every page every N samples (0: only the first and last).")
    var fullEvery: Int = 0

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !target.isEmpty else { throw ValidationError("give a target: --pid PID, --comm NAME, --cgroup PATH or --all") }
        guard interval >= 10 && interval <= 3_600_000 else { throw ValidationError("--interval must be from 10 to 3600000 ms") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive") }
        guard fullEvery >= 0 else { throw ValidationError("--full-every must be 0 or more") }
    }

    func run() throws {
        let watcher = try Watcher.group(targets: target.targets, intervalMs: interval, fullEvery: fullEvery)
        let flag = InterruptFlag()
        let line = ProgressLine(output: output)
        let result = watcher.run(duration: duration, stop: { flag.isRaised }) { s in
            guard !output.toStdout else { return }
            // Unbuffered, so that `watch | tee` or a log shows each sample as it is taken.
            line.update(WatchTextReport.line(s)) { FileIO.writeStandard(Array(($0 + "\n").utf8)) }
        }
        line.finish()
        try output.emit(result) { WatchTextReport.summary(result) }
    }
}
