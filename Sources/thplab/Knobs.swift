import ArgumentParser
import THPLab

struct Knobs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knobs",
        abstract: "Show, set, save and restore the THP and khugepaged knobs, safely.",
        discussion: """
            Knobs are named by their path under /sys/kernel/mm/transparent_hugepage \
            (shmem_enabled, khugepaged/max_ptes_none, hugepages-2048kB/enabled); a unique last \
            component (max_ptes_none) is accepted. Only knobs of a fixed list are written, with values \
            the kernel file offers or inside the documented range, and every original value is \
            journaled under /run/thplab before the first change, so `thplab knobs restore` can put it back.
            """,
        subcommands: [Show.self, Set.self, Restore.self, Save.self, Load.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Every THP knob: value, choices or range, kernel default, and whether thplab changed it.")
        @OptionGroup var output: OutputOptions

        func run() throws {
            let sysfs = THPSysfs()
            guard sysfs.isPresent else { throw THPLabError.unsupported("\(sysfs.root) is missing: no THP in this kernel") }
            let knobs = sysfs.readAll()
            let changed = HostJournal.changedKnobs(stateDir: HostGuard.defaultStateDir)
            try output.emit(KnobInfo.all(knobs, changed: changed)) { KnobsTextReport.render(knobs, changed: changed) }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set knobs (NAME=VALUE ...), for good or only while a command runs.",
            discussion: """
                Every pair is checked before any is written. Without a command the values stay until \
                `thplab knobs restore`. With `-- COMMAND [ARGS]` they apply only while COMMAND runs and are \
                put back when it ends, fails or is interrupted; thplab exits with COMMAND's status.
                Example: thplab knobs set max_ptes_none=0 scan_sleep_millisecs=100 -- ./my-benchmark
                """
        )

        @Argument(parsing: .captureForPassthrough, help: "NAME=VALUE pairs, then optionally -- COMMAND [ARGS].")
        var words: [String] = []

        /// The pairs before `--` and the command after it.
        var pairs: [String] { Array(words.prefix { $0 != "--" }) }
        var command: [String] { words.firstIndex(of: "--").map { Array(words[(words.index(after: $0))...]) } ?? [] }

        func validate() throws {
            if let first = words.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
            if pairs.isEmpty { throw ValidationError("give at least one NAME=VALUE") }
            if words.contains("--") && command.isEmpty { throw ValidationError("a command must follow --") }
        }

        func run() throws {
            let requests = try KnobRequest.parse(pairs, sysfs: THPSysfs())
            let log: (String) -> Void = { Console.error("thplab: " + $0) }
            if command.isEmpty {
                for c in try KnobCommands.setForGood(requests, log: log) {
                    print("\(c.name): \(c.old) -> \(c.new)")
                }
                print("until `thplab knobs restore`")
            } else {
                throw ExitCode(try KnobCommands.setWhile(requests, command: command, log: log))
            }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Put back every knob thplab changed: `knobs set`/`load`, and anything an interrupted run left.",
            discussion: "Every thplab that changes the host also undoes an interrupted run's journal when it starts."
        )

        func run() throws {
            if !(try KnobCommands.restore(log: { print($0) })) {
                print("nothing to restore: thplab changed no knob")
            }
        }
    }

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "save", abstract: "Write every knob's current value to a profile file (name=value lines).")
        @Argument(help: "The profile file.")
        var file: String

        func run() throws {
            let sysfs = THPSysfs()
            guard sysfs.isPresent else { throw THPLabError.unsupported("\(sysfs.root) is missing: no THP in this kernel") }
            try JSONOutput.checkWritable(file)
            try FileIO.writeAtomically(file, Array(KnobProfile.format(sysfs.readAll(), release: ThisProcess.kernelRelease).utf8))
            print("saved \(sysfs.presentKnobs().count) knobs to \(file)")
        }
    }

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load",
            abstract: "Set the knobs of a profile file, checking the whole file before writing anything.",
            discussion: "Values stay until `thplab knobs restore`."
        )
        @Argument(help: "The profile file (as `knobs save` writes it).")
        var file: String

        func run() throws {
            guard ThisProcess.exists(file) else { throw THPLabError.usage("\(file) does not exist") }
            let requests = try KnobProfile.load(try FileIO.read(file, limit: 1 << 20), sysfs: THPSysfs())
            let changes = try KnobCommands.setForGood(requests, log: { Console.error("thplab: " + $0) })
            for c in changes where c.old != c.new { print("\(c.name): \(c.old) -> \(c.new)") }
            print("\(changes.filter { $0.old != $0.new }.count) knob(s) changed, \(changes.count) checked; until `thplab knobs restore`")
        }
    }
}
