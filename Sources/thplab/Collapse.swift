import ArgumentParser
import THPLab

struct Collapse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "MADV_COLLAPSE inside another process, extent by extent, with a before/after diff.",
        discussion: """
            Uses process_madvise(2) (Linux 6.1+), which needs root (ptrace access and CAP_SYS_NICE). \
            Each 2 MiB extent is collapsed on its own and its errno reported: ENOMEM (no huge page), \
            EBUSY (cgroup charge), EAGAIN (transient), EINVAL (not eligible). Success is also returned \
            for an extent that was already PMD-mapped: the diff tells which changed. \
            Exit code 0 when every extent collapsed, 1 when the kernel refused any.
            """
    )

    @Option(help: "The process.")
    var pid: Int32

    @Option(help: "Address range START-END (hex), 2 MiB aligned, inside the process's VMAs.")
    var range: String?

    @Option(help: "An address inside a VMA: every whole 2 MiB extent of that VMA.")
    var vma: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (range == nil) != (vma == nil) else { throw ValidationError("give exactly one of --range START-END or --vma ADDR") }
        _ = try target()
    }

    func target() throws -> RemoteCollapse.Target {
        if let range {
            let parts = range.split(separator: "-")
            guard parts.count == 2, let s = Self.address(parts[0]), let e = Self.address(parts[1]) else {
                throw ValidationError("--range takes START-END in hex, e.g. 7f0000000000-7f0000400000")
            }
            return .range(s, e)
        }
        guard let v = vma.flatMap({ Self.address($0[...]) }) else { throw ValidationError("--vma takes an address in hex") }
        return .vma(v)
    }

    static func address(_ s: Substring) -> UInt? {
        UInt(s.hasPrefix("0x") ? s.dropFirst(2) : s, radix: 16)
    }

    func run() throws {
        guard Sys.effectiveUID == 0 else { throw THPLabError.unsupported("collapse needs root: process_madvise needs ptrace access and CAP_SYS_NICE") }
        let r = try RemoteCollapse.run(pid: pid, target: try target())
        try output.emit(r) { CollapseTextReport.render(r) }
        if r.refused > 0 { throw ExitCode(1) }
    }
}
