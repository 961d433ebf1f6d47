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

    func options(_ scenario: RegionOptions.Scenario, present: Int?, trigger: Trigger, swapped: Int? = nil) throws -> RegionOptions {
        var o = RegionOptions(scenario: scenario)
        object.apply(to: &o.common)
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
    var trigger: Trigger = .madvise

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
        discussion: "Populates every extent interleaved over the nodes with memory (or --interleave / --node), then lets khugepaged collapse it and reports, extent by extent, the nodes of the small pages before and of the huge page after, and any scan_aborted result (khugepaged gives up when the pages sit on nodes too far apart and node_reclaim_mode is set). Needs two nodes with memory: on a one-node host it says so and exits 3; try it in a two-node guest: thplab vm --kernel K --numa 1G,cpus=0 --numa 1G,cpus=1 -- run numa"
    )
    @OptionGroup var region: RegionArguments
    @Option(help: "madvise (MADV_COLLAPSE) or khugepaged.")
    var trigger: Trigger = .khugepaged

    func run() throws { try region.run(try region.options(.numa, present: 512, trigger: trigger)) }
}
