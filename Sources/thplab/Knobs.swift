import ArgumentParser
import THPLab

struct Knobs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the THP knobs, or put back what an interrupted thplab changed.",
        subcommands: [Show.self, Restore.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every THP and khugepaged knob with its value and choices.")
        @OptionGroup var output: JSONOption

        func run() throws {
            let sysfs = THPSysfs()
            guard sysfs.isPresent else { throw THPLabError.unsupported("\(sysfs.root) is missing: no THP in this kernel") }
            let knobs = sysfs.readAll()
            try output.emit(knobs) { KnobsTextReport.render(knobs) }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo what a killed thplab left in its journal (knobs, mounts, files).",
            discussion: "Every thplab that changes the host does this itself at start; this command does only that."
        )

        func run() throws {
            guard Sys.effectiveUID == 0 else { throw THPLabError.unsupported("knobs restore needs root") }
            var said = false
            let guardian = try HostGuard.acquire(command: "knobs restore", log: { print($0); said = true })
            guardian.release()
            if !said { print("nothing to restore: no journal of an interrupted run") }
        }
    }
}
