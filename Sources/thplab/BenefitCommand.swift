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
              mthp-<N>kB  folios of one multi-size THP size only (faulted in while that
                          size alone is allowed, policies put back after); every size
                          the policies enable, or those of --mthp
              pmd         huge folios mapped by PMDs (MADV_COLLAPSE)
            and times each with a dependent random chase over every page (each load
            waits for the last: the TLB's worst case) and a sequential stream (its
            best). States are measured in turn, --rounds rounds, each measurement at
            least --round-seconds; before each one the memory's classes are read
            (pagemap, kpageflags), so a figure is never given to a state the memory
            was not in. Figures are medians with min and max; where the rounds of a
            state and of small pages overlap, the report says the difference is not
            measurable here instead of quoting it. The memory is about --size times
            the number of states (anon 3, shmem/tmpfs 2, plus one per mTHP size) and is
            freed at the end.
            Examples:
              thplab run benefit
              thplab run benefit --size 4G --rounds 7
              thplab run benefit --mthp 16K,64K
              thplab run benefit --memory shmem --json benefit.json
            """
    )

    @Option(help: "The working set's size, a multiple of 2 MiB (K/M/G suffixes, powers of 1024).")
    var size: String = "1G"

    @Option(help: "anon, shmem (a memfd) or tmpfs (files on a tmpfs thplab mounts).")
    var memory: MthpMemory = .anon

    @Option(help: "Multi-size THP sizes to measure as states of their own, e.g. 16K,64K (anon 6.8+, shmem 6.11+); default: every size below 2M whose policy is not never.")
    var mthp: String?

    @Option(help: "Rounds; each measures every state once.")
    var rounds: Int = 5

    @Option(help: "The least time of one measurement, in seconds.")
    var roundSeconds: Double = 0.5

    @OptionGroup var output: OutputOptions

    func options() throws -> BenefitOptions {
        var o = BenefitOptions()
        o.size = try SizeParser.parse(size)
        o.memory = memory
        o.mthpKB = try mthp.map { list in
            try list.split(separator: ",").map { try SizeParser.parse(String($0).trimmingWhitespace()) / 1024 }
        }
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
