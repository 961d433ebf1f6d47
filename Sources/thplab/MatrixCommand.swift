import ArgumentParser
import Foundation
import THPLab

struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "The same `run retract` on several kernels (and the host), side by side, mapping role by mapping role.",
        discussion: "Example: thplab matrix --kernel 6.1.0-56-amd64 --host -- run retract"
    )

    @Option(name: .customLong("kernel"), help: "A kernel to boot (path or installed release; repeatable).")
    var kernels: [String] = []

    @Flag(help: "Also run on the host's own kernel.")
    var host = false

    @Option(help: "Guest memory.")
    var memory: String = "2G"

    @OptionGroup var output: OutputOptions

    @Argument(parsing: .captureForPassthrough, help: "-- run retract [OPTIONS]")
    var words: [String] = []

    var guestArguments: [String] { words.first == "--" ? Array(words.dropFirst()) : words }

    func validate() throws {
        guard Array(guestArguments.prefix(2)) == ["run", "retract"] else {
            throw ValidationError("matrix compares `run retract`: give -- run retract [OPTIONS]")
        }
        guard !kernels.isEmpty || host else { throw ValidationError("give at least one --kernel, or --host") }
        guard !guestArguments.contains("--json") else { throw ValidationError("give --json to matrix, not to run retract") }
    }

    func run() throws {
        guard Sys.effectiveUID == 0 else { throw THPLabError.unsupported("matrix needs root") }
        let images = try kernels.map { try KernelImage.resolve($0) }
        var columns: [(MatrixColumn, RetractResult?)] = []
        if host {
            let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-matrix-")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Sys.ownExecutable())
            p.arguments = guestArguments + ["--json", dir + "/host.json"]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            let r = (try? FileIO.readBytes(dir + "/host.json")).flatMap { try? JSONDecoder().decode(RetractResult.self, from: Data($0)) }
            columns.append((MatrixColumn(label: "host", kernelRelease: Sys.uname().release, how: "host",
                                         exitCode: p.terminationStatus, ok: r?.ok ?? false), r))
        }
        for image in images {
            var o = VirtualMachine.Options(kernel: image)
            o.memory = memory
            let v = try VirtualMachine.run(o, arguments: guestArguments, wantJSON: true, log: { Console.error("thplab: " + $0) })
            let r = Matrix.retractResult(v.result)
            columns.append((MatrixColumn(label: image.release ?? image.path, kernelRelease: r?.kernelRelease ?? image.release ?? "?",
                                         how: v.acceleration, exitCode: v.exitCode, ok: r?.ok ?? false), r))
        }
        let m = Matrix.build(arguments: guestArguments, columns: columns)
        try output.emit(m) { MatrixTextReport.render(m) }
        if !m.ok { throw ExitCode(1) }
    }
}
