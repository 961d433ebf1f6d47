import ArgumentParser
import THPLab

/// Options shared by `run collapse`, `run sparse` and `run latency`.
struct RegionArguments: ParsableArguments {
    @Option(help: "Number of 2 MiB extents in the region.")
    var extents: Int = 4

    @Option(help: "Regions in this many processes competing for khugepaged (latency, collapse --trigger khugepaged): thplab and workers, each with its own object.")
    var processes: Int = 1

    @Option(help: "Place the region's pages on this NUMA node only (mbind MPOL_BIND), checked after populate.")
    var node: Int?

    @Option(help: "Spread the region's pages over these nodes, e.g. 0,1 (MPOL_INTERLEAVE).")
    var interleave: String?

    @Option(help: "Prefer this node for the region's pages (MPOL_PREFERRED; others when it is full).")
    var preferred: Int?

    @OptionGroup var object: ObjectArguments
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if [node != nil, interleave != nil, preferred != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --node, --interleave and --preferred")
        }
    }

    func placement() throws -> Placement? {
        if let node { return .bind(node) }
        if let preferred { return .preferred(preferred) }
        if let interleave { return .interleave(try Placement.nodeList(interleave)) }
        return nil
    }

    func options(_ scenario: RegionOptions.Scenario, present: Int?, trigger: Trigger, swapped: Int? = nil, shared: Int? = nil) throws -> RegionOptions {
        var o = RegionOptions(scenario: scenario)
        object.apply(to: &o.common, defaultBacking: scenario.defaultBacking)
        o.own.shared = shared
        o.trigger = trigger
        o.processes = processes
        o.placement = try placement() ?? o.placement
        o.extents = extents
        if let swapped { o.swapped = swapped }
        if let present { o.present = present }
        return o
    }

    func run(_ o: RegionOptions) throws {
        let progress = ProgressLine(output: output)
        let r = try RegionRunner.run(options: o, log: { Console.error("thplab: " + $0) }, progress: progress.show)
        progress.clear()
        try output.emit(r) { RegionTextReport.render(r) }
        if !r.ok { throw ExitCode(1) }
    }
}

struct CollapseScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collapse",
        abstract: "The simplest experiment: one fully populated region, collapsed by MADV_COLLAPSE or khugepaged.",
        discussion: "Any backing, anonymous memory included: the baseline against which file and shmem collapse compare."
    )
    @OptionGroup var region: RegionArguments
    @Option(help: "madvise (MADV_COLLAPSE, extent by extent) or khugepaged.")
    var trigger: Trigger = RegionOptions.Scenario.collapse.defaultTrigger

    func run() throws { try region.run(try region.options(.collapse, present: 512, trigger: trigger)) }
}

struct SparseScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparse",
        abstract: "Extents with only --present of 512 pages: khugepaged collapses one only if present >= 512 - max_ptes_none.",
        discussion: "Sweep it over max_ptes_none to see the rule: thplab sweep sparse --knob max_ptes_none=0,255,256,511 --present 256"
    )
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (of 512) faulted in at the start of each extent.")
    var present: Int = 256

    func run() throws { try region.run(try region.options(.sparse, present: present, trigger: .khugepaged)) }
}

struct LatencyScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Time from MADV_HUGEPAGE to each extent's collapse and to full coverage, under the current khugepaged knobs.",
        discussion: "Times come from the tracepoints' own clock (microseconds) against a trace_marker written at MADV_HUGEPAGE; without tracefs, from polling (about 5 ms). thplab does not make khugepaged fast here: the knobs in force are what is measured (sweep scan_sleep_millisecs or pages_to_scan to compare)."
    )
    @OptionGroup var region: RegionArguments

    func run() throws { try region.run(try region.options(.latency, present: 512, trigger: .khugepaged)) }
}

struct SwapScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Pages pushed out with MADV_PAGEOUT: khugepaged collapses an extent only if swapped <= max_ptes_swap.",
        discussion: """
            Needs swap. The host's own is used if it has any. Without any, thplab makes a 256 MiB swap file in --swap-dir \
            for the run (swapon), and swaps it off and removes it afterwards. Where that filesystem cannot hold swap \
            (tmpfs, or a virtme-ng guest's 9p root), it uses zram0 instead: loaded if zram is a module, sized, swapped on, \
            then swapped off, reset and unloaded again. A killed run's swap is undone by the next start.
            Sweep it: thplab sweep swap --knob max_ptes_swap=0,64,128 --swapped 64
            """
    )
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (of 512) of each extent pushed out to swap.")
    var swapped: Int = 128

    @Option(help: "Where to make the swap file when the host has no swap.")
    var swapDir: String = "/var/tmp"

    func run() throws {
        var o = try region.options(.swap, present: 512, trigger: .khugepaged, swapped: swapped)
        o.own.swapDirectory = swapDir == "/var/tmp" ? nil : swapDir
        try region.run(o)
    }
}

struct NumaScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numa",
        abstract: "Small pages of each extent spread over the NUMA nodes, then a khugepaged collapse: which node gets the huge page?",
        discussion: "Populates every extent interleaved over the nodes with memory (or --interleave / --node), then lets khugepaged collapse it and reports, extent by extent, the nodes of the small pages before and of the huge page after, and any scan_aborted result (khugepaged gives up when the pages sit on nodes too far apart and node_reclaim_mode is set). Needs two nodes with memory: on a one-node host it says so and exits 3; try it in a two-node guest: thplab vm --kernel K --cpus 2 --numa 1G,cpus=0 --numa 1G,cpus=1 -- run numa"
    )
    @OptionGroup var region: RegionArguments
    @Option(help: "madvise (MADV_COLLAPSE) or khugepaged.")
    var trigger: Trigger = RegionOptions.Scenario.numa.defaultTrigger

    func run() throws { try region.run(try region.options(.numa, present: 512, trigger: trigger)) }
}

struct BloatScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bloat",
        abstract: "What a huge page costs: --touched of 512 pages written, the collapse fills the rest with zeros; then what the underused-THP shrinker gives back.",
        discussion: """
            thplab makes a memory cgroup of its own (v1 or v2, whichever has the memory controller), joins it, and \
            makes the region there: anonymous memory by default, or shmem (--backing memfd). It writes --touched pages \
            of each 2 MiB extent and lets khugepaged (or MADV_COLLAPSE) collapse them, and reports per extent the \
            memory before and after (pagemap, smaps Rss and Anonymous) and the zeros the collapse made resident.
            Then it presses that cgroup alone (v1: the limit lowered to half its usage and put back; v2: \
            memory.reclaim of half), never the whole machine, and shows what the underused-THP shrinker (6.12+) did: \
            the THPs split, the memory given back, the subpages now on the zero page, thp_underused_split_page, \
            thp_split_page and split_deferred. The kernel's rule: a THP is split only if more than max_ptes_none \
            of its subpages are zeros; shrink_underused=0 and max_ptes_none=511 (the default) turn it off. So \
            khugepaged's own THPs, which have at most max_ptes_none zeros, are never taken back: use \
            --trigger madvise (MADV_COLLAPSE ignores max_ptes_none) to see the shrinker at work.
            The cgroup is removed and the knobs restored on every exit, after SIGKILL by the next start.
            Examples: thplab run bloat --touched 64
                      thplab knobs set khugepaged/max_ptes_none=256 -- thplab run bloat --touched 64 --trigger madvise
                      thplab sweep bloat --knob max_ptes_none=0,64,256,511 --touched 64,256,448
            """
    )
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (0 to 512) of each extent written before the collapse; the rest stay untouched.")
    var touched: Int = 64
    @Option(help: "khugepaged (collapses only with at least 512 - max_ptes_none pages touched) or madvise (MADV_COLLAPSE: always).")
    var trigger: Trigger = RegionOptions.Scenario.bloat.defaultTrigger

    func run() throws { try region.run(try region.options(.bloat, present: touched, trigger: trigger)) }
}

struct SharedScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shared",
        abstract: "Pages shared copy-on-write with a forked child: khugepaged collapses an extent only if shared <= max_ptes_shared.",
        discussion: """
            thplab writes every page of its anonymous region, forks a child that holds the memory (it only sleeps, \
            and dies with thplab), then writes all but --shared pages of each extent again, so that --shared pages \
            per extent stay shared. khugepaged gives up on an extent with more than max_ptes_shared shared pages \
            (result exceed_shared_pte in the trace); MADV_COLLAPSE ignores the limit.
            Sweep it: thplab sweep shared --knob max_ptes_shared=0,256,511 --shared 384
            """
    )
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (0 to 512) of each extent left shared with the child.")
    var shared: Int = 384
    @Option(help: "khugepaged (the limit applies) or madvise (MADV_COLLAPSE ignores it).")
    var trigger: Trigger = RegionOptions.Scenario.shared.defaultTrigger

    func run() throws { try region.run(try region.options(.shared, present: 512, trigger: trigger, shared: shared)) }
}
