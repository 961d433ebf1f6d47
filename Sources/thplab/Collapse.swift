import ArgumentParser
import THPLab

struct Collapse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collapse",
        abstract: "MADV_COLLAPSE inside other processes, extent by extent, planned first, with a before/after diff.",
        discussion: """
            Uses process_madvise(2) (Linux 6.1+), which needs root (ptrace access and CAP_SYS_NICE).

            A before-snapshot plans the work: extents that cannot succeed are not sent to the kernel \
            (misaligned VMA, nothing resident, MADV_NOHUGEPAGE, copy-on-write pages, a regular file \
            without CONFIG_READ_ONLY_THP_FOR_FS, already PMD-mapped), and are reported one line per \
            reason. --dry-run prints the plan and changes nothing. Each attempted extent's errno is \
            explained with the cause the before- and after-views show: ENOMEM (no huge page), EBUSY \
            (cgroup charge), EAGAIN (transient), EINVAL (not eligible). The kernel also returns \
            success for an extent already PMD-mapped, so success is judged from the after-view.

            What: --range START-END or --vma ADDR in one --pid, or, without either, every VMA of \
            every process of the target. --comm, --cgroup and --all need --yes.

            Exit code 0 when every attempted extent is PMD-mapped afterwards, 1 when some are not (or \
            when nothing could be attempted and something other than "already PMD-mapped" or "not \
            resident" stood in the way), 2 for bad input.

            Examples:
              thplab collapse --pid 1234 --vma 7f0000000000 --dry-run
              thplab collapse --comm postgres --yes
              thplab collapse --comm postgres --yes --measure 'pgbench -S -T 10 -h 127.0.0.1 bench'

            --measure runs your command before the collapse (it must succeed, or nothing is \
            collapsed: exit 3) and again after it, and shows its last line with a figure in it \
            side by side, or its wall time when it prints none.
            """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Address range START-END (hex), 2 MiB aligned, inside the process's VMAs (one --pid).")
    var range: String?

    @Option(help: "An address inside a VMA (hex): every whole 2 MiB extent of that VMA (one --pid).")
    var vma: String?

    @Flag(help: "Print the plan (what would be attempted, what skipped and why) and change nothing.")
    var dryRun = false

    @Flag(help: "Confirm a collapse over --comm, --cgroup or --all targets.")
    var yes = false

    @Flag(help: "List every attempted extent.")
    var extents = false

    @Option(help: "A benchmark of your own, run before and after the collapse (as given, never through a shell unless you write one), e.g. 'pgbench -S -T 10'; its last line with a figure, or its time, is shown side by side.")
    var measure: String?

    @Option(help: "Bound on each --measure run, in seconds.")
    var measureTimeout: Int = 600

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !target.isEmpty else { throw ValidationError("give a target: --pid PID, --comm NAME, --cgroup PATH or --all") }
        if range != nil && vma != nil { throw ValidationError("give at most one of --range START-END and --vma ADDR") }
        if range != nil || vma != nil {
            guard target.singlePid != nil else { throw ValidationError("--range and --vma go with exactly one --pid") }
        }
        _ = try what()
        if target.isWide && !yes && !dryRun {
            throw ValidationError("collapsing every process of \(target.targets.map(\.description).joined(separator: " ")) changes their memory: add --yes (or --dry-run to see the plan)")
        }
    }

    func what() throws -> RemoteCollapse.Target? {
        if let range {
            let parts = range.split(separator: "-")
            guard parts.count == 2, let s = HexAddress.parse(parts[0]), let e = HexAddress.parse(parts[1]) else {
                throw ValidationError("--range takes START-END in hex, e.g. 7f0000000000-7f0000400000")
            }
            return .range(s, e)
        }
        if let vma {
            guard let v = HexAddress.parse(vma[...]) else { throw ValidationError("--vma takes an address in hex") }
            return .vma(v)
        }
        return nil
    }

    func run() throws {
        let m = try measure.map { try MeasureCommand($0, timeoutSeconds: measureTimeout) }
        let r = try RemoteCollapse.run(targets: target.targets, target: try what(), dryRun: dryRun, measure: m)
        try output.emit(r) { CollapseTextReport.render(r, all: extents) }
        if !dryRun && !r.reachedGoal { throw ExitCode(1) }
    }
}
