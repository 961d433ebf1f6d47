import ArgumentParser
import THPLab

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one experiment and report what the kernel did.",
        subcommands: [Retract.self, CollapseScenario.self, SparseScenario.self, LatencyScenario.self, SwapScenario.self, NumaScenario.self, BloatScenario.self, SharedScenario.self, MthpScenario.self, BenefitScenario.self]
    )
}

extension Backing: ExpressibleByArgument {}
extension Trigger: ExpressibleByArgument {}
extension TmpfsHuge: ExpressibleByArgument {}

struct Retract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract",
        abstract: "Collapse a shmem or file object and see which of its mappings end up PMD-mapped.",
        discussion: """
            One object is mapped in every process (thplab and --processes - 1 workers) four ways:
              shared           MAP_SHARED, every page written
              private-clean    MAP_PRIVATE, pages only read
              private-written  MAP_PRIVATE, --cow-pages pages written (copy-on-write, so an anon_vma)
              misaligned       address not congruent to the file offset modulo 2 MiB
            Phases, each a snapshot of every mapping from smaps and pagemap/kpageflags:
              populated  every page faulted in as small pages
              collapsed  after the trigger
              refaulted  after every mapping touched every page again
            Triggers:
              madvise     MADV_COLLAPSE on thplab's own shared mapping, then on its private-written one
              khugepaged  MADV_HUGEPAGE on every mapping, khugepaged made fast (scan_sleep_millisecs 10),
                          then a bounded wait; every knob changed is put back afterwards
            Needs root. Prints a table; --json writes the full result (schema: docs/json-schema.md).
            """
    )

    @Option(help: "Object size, a multiple of 2 MiB (K/M/G suffixes, powers of 1024).")
    var size: String = "4M"

    @Option(help: "Processes mapping the object: thplab itself plus this many minus one workers.")
    var processes: Int = 2

    @Option(help: "Pages written in each private-written mapping (copy-on-write).")
    var cowPages: Int = 1

    @Flag(inversion: .prefixedNo, help: "Include the misaligned mapping.")
    var misaligned: Bool = true

    @Flag(help: "Add a nohugepage mapping: MAP_SHARED, given MADV_NOHUGEPAGE after the collapse (since 6.12 no PMD at fault there).")
    var nohugepage = false

    @Flag(help: "Add a uffd-wp mapping: MAP_SHARED with userfaultfd write-protect armed (retraction skips it).")
    var uffdWp = false

    @Option(help: "How to collapse: madvise (MADV_COLLAPSE) or khugepaged.")
    var trigger: Trigger = .madvise

    @Option(help: "Size of thplab's own tmpfs (default: --size plus 2 MiB).")
    var tmpfsSize: String?

    @Option(help: "Times MADV_HUGEPAGE is given per mapping (khugepaged trigger). Under shmem advise only the second call puts the process on khugepaged's list; 1 shows that.")
    var madviseTimes: Int = 2

    @OptionGroup var object: ObjectArguments
    @OptionGroup var output: OutputOptions

    func options() throws -> RetractOptions {
        var o = RetractOptions()
        object.apply(to: &o.common)
        o.processes = processes
        o.trigger = trigger
        o.size = try SizeParser.parse(size)
        o.cowPages = cowPages
        o.misaligned = misaligned
        o.tmpfsSize = try tmpfsSize.map(SizeParser.parse)
        o.madviseTimes = madviseTimes
        o.nohugepage = nohugepage
        o.uffdWp = uffdWp
        return o
    }

    func run() throws {
        let opts = try options()
        try output.runExperiment({ try RetractRunner.run(options: opts, executable: ThisProcess.executable(), log: { Console.error("thplab: " + $0) },
                                                         progress: $0) },
                                 text: RetractTextReport.render)
    }
}
