import ArgumentParser
import THPLab

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Why a process's memory is or is not on huge pages, VMA by VMA, without changing anything.",
        discussion: "For each VMA: THPeligible, the VmFlags that matter (hg, nh, uw, ...), copy-on-write pages in a file mapping, alignment of address against file offset, the page classes now, and what would stop a collapse. Every reason is inferred from state and the kernel's rules, and marked so."
    )

    @Option(help: "The process.")
    var pid: Int32

    @Option(help: "Only the VMA holding this address (hex).")
    var addr: String?

    @Flag(help: "Show VMAs with nothing resident too.")
    var all = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        var address: UInt?
        if let addr {
            guard let a = UInt(addr.hasPrefix("0x") ? String(addr.dropFirst(2)) : addr, radix: 16) else {
                throw ValidationError("--addr takes an address in hex")
            }
            address = a
        }
        let r = try Explainer.explain(pid: pid, address: address)
        try output.emit(r) { ExplainTextReport.render(r, all: all || address != nil) }
    }
}
