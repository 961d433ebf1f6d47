import ArgumentParser
import THPLab

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Why memory is or is not on huge pages, ranked by what each blocker holds back, with the remedy.",
        discussion: """
            Opens with the summary (resident, PMD-mapped) and then what holds the rest back, largest \
            first: for each blocker the kB it holds back, the largest VMAs, why, the remedy (the knob \
            write, the madvise or prctl call, whether a restart is needed) and what `thplab collapse` \
            can do now. A remedy this project watched work on the running kernel's series says \
            "measured on 6.18"; the others say "inferred" (from the kernel's code). A VMA's memory \
            counts under its first blocker; others it has are listed as "also".

            Objects (shmem, memfd, files) mapped by several processes of the target are listed with how \
            much of each is in huge folios and what each process's next fault will map.

            Per-VMA detail (THPeligible, VmFlags, alignment, classes, every blocker) with --vmas, or for \
            one VMA with --addr. Changes nothing.

            Examples:
              thplab explain --pid 1234
              thplab explain --comm postgres
              thplab explain --cgroup /sys/fs/cgroup/memory/myservice --vmas
            """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Only the VMA holding this address (hex), with its detail; needs one --pid.")
    var addr: String?

    @Flag(help: "Show the per-VMA blocks (only VMAs with something resident, unless --all-vmas).")
    var vmas = false

    @Flag(name: .customLong("all-vmas"), help: "With --vmas: VMAs with nothing resident too.")
    var allVmas = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !target.isEmpty else { throw ValidationError("give a target: --pid PID, --comm NAME, --cgroup PATH or --all") }
        if addr != nil {
            guard target.singlePid != nil else { throw ValidationError("--addr goes with exactly one --pid") }
            _ = try address()
        }
    }

    func address() throws -> UInt? {
        guard let addr else { return nil }
        guard let a = HexAddress.parse(addr[...]) else { throw ValidationError("--addr takes an address in hex") }
        return a
    }

    func run() throws {
        let address = try address()
        let r = try Explainer.explain(targets: target.targets, address: address)
        try output.emit(r) { ExplainTextReport.render(r, .init(vmas: vmas || address != nil, all: allVmas || address != nil)) }
    }
}

/// Hex addresses as the commands take them: `7f00...` or `0x7f00...`.
enum HexAddress {
    static func parse(_ s: Substring) -> UInt? {
        UInt(s.hasPrefix("0x") ? s.dropFirst(2) : s, radix: 16)
    }
}
