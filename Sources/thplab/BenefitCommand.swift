import ArgumentParser
import THPLab

struct BenefitScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benefit",
        abstract: "What a huge page buys: access time of one working set on small pages, on huge folios mapped by PTEs, and PMD-mapped.",
        discussion: """
            thplab makes a working set of --size in each state the kernel allows:
              small       base pages only (MADV_NOHUGEPAGE before any fault)
              pte-mapped  huge folios mapped by PTEs (anon: collapsed, then each PMD
                          split by an mprotect; shmem/tmpfs: a second mapping of the
                          collapsed object, one page off its alignment)
              pmd         huge folios mapped by PMDs (MADV_COLLAPSE)
            and times each with a dependent random chase over every page (each load
            waits for the last: the TLB's worst case) and a sequential stream (its
            best). States are measured in turn, --rounds rounds, each measurement at
            least --round-seconds; before each one the memory's classes are read
            (pagemap, kpageflags), so a figure is never given to a state the memory
            was not in. Figures are medians with min and max; where the rounds of a
            state and of small pages overlap, the report says the difference is not
            measurable here instead of quoting it. The memory is about --size times
            the number of states (anon 3, shmem/tmpfs 2) and is freed at the end.
            Examples:
              thplab run benefit
              thplab run benefit --size 4G --rounds 7
              thplab run benefit --memory shmem --json benefit.json
            """
    )

    @Option(help: "The working set's size, a multiple of 2 MiB (K/M/G suffixes, powers of 1024).")
    var size: String = "1G"

    @Option(help: "anon, shmem (a memfd) or tmpfs (files on a tmpfs thplab mounts).")
    var memory: MthpMemory = .anon

    @Option(help: "Rounds; each measures every state once.")
    var rounds: Int = 5

    @Option(help: "The least time of one measurement, in seconds.")
    var roundSeconds: Double = 0.5

    @OptionGroup var output: OutputOptions

    func options() throws -> BenefitOptions {
        var o = BenefitOptions()
        o.size = try SizeParser.parse(size)
        o.memory = memory
        o.rounds = rounds
        o.roundSeconds = roundSeconds
        return o
    }

    func run() throws {
        let o = try options()
        try output.runExperiment({ try BenefitRunner.run(options: o, log: { Console.error("thplab: " + $0) }, progress: $0) },
                                 text: BenefitTextReport.render)
    }
}
