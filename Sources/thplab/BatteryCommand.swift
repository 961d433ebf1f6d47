import ArgumentParser
import THPLab

struct BatteryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "battery",
        abstract: "Everything thplab knows, run once each on this kernel: a behaviour fingerprint to compare kernels.",
        discussion: """
            Runs, one after another, each as its own thplab (so each takes the lock and puts back every knob it changes):
              doctor                          the capability table
              run retract --trigger T         T = madvise and khugepaged
              run retract --trigger T --nohugepage --uffd-wp --processes 3
              run SCENARIO                    each region scenario with its defaults:
                \(RegionOptions.Scenario.allCases.map(\.rawValue).joined(separator: ", "))
              run mthp                        multi-size THP, its default policies
              run benefit --size 16M ...      the access states, in one short round
            Each run bounds its own waits (khugepaged at most 60 s); on this kind of machine the whole battery takes about 15 s.
            --only WORD... keeps the plan's entries whose command contains a word; --entry 'COMMAND' adds a command of \
            your own (any run or sweep with its options), so that one boot of a guest answers many questions:
              thplab vm --kernel 6.1.0-57-amd64 -- battery --only doctor --entry 'run sparse --present 256'
            A scenario this host cannot run (exit 3, e.g. numa on one node) is recorded as such, not as a failure.
            The fingerprint (--json) holds, per entry and mapping or subject, the outcome and the model's rule.
            For a patch to mm/khugepaged.c:
              thplab vm --kernel /path/to/bzImage -- battery    (or: thplab matrix --kernel A --kernel B -- battery)
              thplab battery --json base.json; (boot the patched kernel) thplab battery --json patched.json
              thplab diff base.json patched.json                what changed, with the rule on each side
            Exit 0 when every run met its kernel's expectations, 1 when one did not.
            """
    )

    @Option(parsing: .upToNextOption, help: "Run only the entries whose command contains one of these words (e.g. --only sparse swap).")
    var only: [String] = []

    @Option(name: .customLong("entry"), help: ArgumentHelp("A thplab command of your own to run as one more entry (repeat it), quoted as one word, e.g. --entry 'sweep sparse --present 256 --knob max_ptes_none=255,256'. With --entry and no --only, only the entries given run.", valueName: "COMMAND"))
    var entries: [String] = []

    @Flag(help: "Print every row of the fingerprint, not only the ones that missed the model.")
    var rows = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        let b = try Battery.run(only: only, extra: entries.map { $0.split(separator: " ").map(String.init) }, log: { Console.error("thplab: " + $0) })
        try output.emit(b) { BatteryTextReport.render(b, rows: rows) }
        if !b.ok { throw ExitCode(1) }
    }
}
