import ArgumentParser
import THPLab

/// thplab started again by itself to hold mappings in another process.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Internal: a worker process holding mappings for an experiment.",
        shouldDisplay: false
    )

    @Option(help: "The pid of the thplab that started this worker; the worker exits if it is not its parent.")
    var parent: Int32

    func run() throws {
        throw ExitCode(WorkerServer.run(parentPid: parent))
    }
}
