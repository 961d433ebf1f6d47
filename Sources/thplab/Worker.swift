import ArgumentParser
import THPLab

/// thplab started again by itself to hold mappings in another process.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Internal: a worker process holding mappings for an experiment.",
        shouldDisplay: false
    )

    @Option(help: "The pid of the thplab that started this worker; the worker exits if it is not its parent.")
    var parent: Int32

    func run() throws {
        throw ExitCode(WorkerServer.run(parentPid: parent))
    }
}

/// thplab started again by `knobs set -- COMMAND` to run COMMAND so that it
/// dies if thplab is killed.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Internal: run a command that dies with its thplab parent.",
        shouldDisplay: false
    )

    @Option(help: "The pid of the thplab that started it.")
    var parent: Int32

    @Argument(parsing: .captureForPassthrough, help: "-- COMMAND [ARGS]")
    var command: [String] = []

    func run() throws {
        let words = command.first == "--" ? Array(command.dropFirst()) : command
        guard !words.isEmpty else { throw ValidationError("no command") }
        let failed = KnobCommands.execDyingWithParent(parent: parent, command: words)
        if let message = failed.message { Console.error("thplab: " + message) }
        throw ExitCode(failed.code)
    }
}
