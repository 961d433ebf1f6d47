import ArgumentParser
import Foundation
import THPLab

struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "The same `run retract` (or `doctor`) on several kernels and the host, side by side.",
        discussion: """
            `run retract`: mapping role by mapping role, each kernel's outcome and rule, the rows where kernels differ listed.
            `doctor`: each kernel's capability table (THP sizes, per-size stats, tracepoints, smaps fields, PAGEMAP_SCAN, \
            MADV_COLLAPSE, process_madvise) from its own files.
            Examples:
              thplab matrix --kernel 6.1.0-57-amd64 --kernel 6.12.117+deb12-amd64 --host -- run retract --trigger khugepaged --nohugepage
              thplab matrix --kernel 6.1.0-57-amd64 --kernel /boot/vmlinuz-6.12.117+deb12-amd64 --host -- doctor
            """
    )

    @Option(name: .customLong("kernel"), help: "A kernel to boot (path or installed release; repeatable).")
    var kernels: [String] = []

    @Flag(help: "Also run on the host's own kernel.")
    var host = false

    @Option(help: "Guest memory.")
    var memory: String = "2G"

    @OptionGroup var output: OutputOptions

    @Argument(parsing: .captureForPassthrough, help: "-- run retract [OPTIONS], or -- doctor")
    var words: [String] = []

    var guestArguments: [String] { words.first == "--" ? Array(words.dropFirst()) : words }

    func validate() throws {
        guard Array(guestArguments.prefix(2)) == ["run", "retract"] || guestArguments == ["doctor"] else {
            throw ValidationError("matrix compares `run retract` or `doctor`: give -- run retract [OPTIONS], or -- doctor")
        }
        guard !kernels.isEmpty || host else { throw ValidationError("give at least one --kernel, or --host") }
        guard !guestArguments.contains("--json") else { throw ValidationError("give --json to matrix, not to run retract") }
    }

    func run() throws {
        let m = try Matrix.run(arguments: guestArguments, images: try kernels.map { try KernelImage.resolve($0) }, host: host,
                               memory: memory, log: { Console.error("thplab: " + $0) })
        try output.emit(m) { MatrixTextReport.render(m) }
        if !m.ok { throw ExitCode(1) }
    }
}
