import ArgumentParser
import Glibc
import THPLab

@main
struct THPLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thplab",
        abstract: "A laboratory for Transparent Huge Pages on the running kernel.",
        discussion: """
            thplab creates shmem and file memory with known shapes, maps it in several processes, \
            drives the kernel to collapse it (MADV_COLLAPSE or khugepaged) and shows, mapping by \
            mapping, what became PMD-mapped, what stayed on PTEs, and why.

            Exit codes: 0 done and every expectation held; 1 done but the kernel did something \
            else (the report lists the differences); 2 bad usage or input; 3 this host cannot \
            run it (the message says what is missing).

            Start with `thplab doctor`, then `sudo thplab run retract`.
            """,
        version: Version.line,
        subcommands: [Run.self, SweepCommand.self, Snapshot.self, Diff.self, Watch.self, Collapse.self, Explain.self, Export.self, VMCommand.self, MatrixCommand.self, BatteryCommand.self, Report.self, Doctor.self, Knobs.self, Worker.self, Exec.self]
    )

    static func main() {
        if let request = QuickSnapshotArguments.parse(Array(CommandLine.arguments.dropFirst())) {
            execute { try request.run() }
            return
        }
        execute {
            var command = try parseAsRoot()
            if let c = command as? NeedsRoot { try HostChecks.requireRoot(c.rootReason) }
            if let c = command as? NoCSVForm {
                try c.outputOptions.refuseCSV(type(of: command)._commandName)
            }
            try command.run()
        }
    }

    /// Runs a command to its end, through the exit codes the discussion lists.
    static func execute(_ body: () throws -> Void) {
        do {
            try body()
            HostGuard.waitIfInterrupted()
        } catch {
            // A signal's handler may be putting the host back: it speaks
            // and exits, not this error, which its release() caused.
            HostGuard.waitIfInterrupted()
            exit(with: error)
        }
    }

    static func exit(with error: Error) -> Never {
        do { throw error } catch let e as THPLabError {
            Console.error("thplab: \(e.description)")
            Glibc.exit(e.exitCode)
        } catch let e as ExitCode {
            Glibc.exit(e.rawValue)
        } catch let e as VirtualMachine.Interrupted {
            Console.error("thplab: \(e.description)")
            Glibc.exit(130)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            Console.error(fullMessage(for: error))
            Glibc.exit(2)
        }
    }
}

enum Console {
    static func error(_ s: String) {
        FileIO.writeStandard(Array((s + "\n").utf8), errors: true)
    }
}
