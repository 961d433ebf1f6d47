import ArgumentParser
import THPLab

/// Options shared by `run collapse`, `run sparse` and `run latency`.
struct RegionArguments: ParsableArguments {
    @Option(help: "Number of 2 MiB extents in the region.")
    var extents: Int = 4

    @Option(help: "Regions in this many processes competing for khugepaged (latency, collapse --trigger khugepaged): thplab and workers, each with its own object.")
    var processes: Int = 1

    @OptionGroup var object: ObjectArguments
    @OptionGroup var output: OutputOptions

    func options(_ scenario: RegionOptions.Scenario, present: Int?, trigger: Trigger, swapped: Int? = nil) -> RegionOptions {
        var o = RegionOptions(scenario: scenario)
        if let swapped { o.swapped = swapped }
        o.backing = object.backing
        o.extents = extents
        if let present { o.present = present }
        o.trigger = trigger
        o.timeoutSeconds = object.timeout
        o.tmpfsHuge = object.tmpfsHuge
        o.directory = object.dir
        o.fullWait = object.fullWait
        o.allEvents = object.allEvents
        o.processes = processes
        return o
    }

    func run(_ o: RegionOptions) throws {
        let progress = ProgressLine(live: !output.toStdout && Sys.isTerminal(1))
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

    func run() throws { try region.run(region.options(.collapse, present: 512, trigger: trigger)) }
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

    func run() throws { try region.run(region.options(.sparse, present: present, trigger: .khugepaged)) }
}

struct LatencyScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Time from MADV_HUGEPAGE to each extent's collapse and to full coverage, under the current khugepaged knobs.",
        discussion: "Times come from the tracepoints' own clock (microseconds) against a trace_marker written at MADV_HUGEPAGE; without tracefs, from polling (about 5 ms). thplab does not make khugepaged fast here: the knobs in force are what is measured (sweep scan_sleep_millisecs or pages_to_scan to compare)."
    )
    @OptionGroup var region: RegionArguments

    func run() throws { try region.run(region.options(.latency, present: 512, trigger: .khugepaged)) }
}

struct SwapScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Pages pushed out with MADV_PAGEOUT: khugepaged collapses an extent only if swapped <= max_ptes_swap.",
        discussion: "Needs swap: without any, thplab makes a 256 MiB swap file in /var/tmp for the run (swapon), and swaps it off and removes it afterwards (a killed run's is removed by the next start). Sweep it: thplab sweep swap --knob max_ptes_swap=0,64,128 --swapped 64"
    )
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (of 512) of each extent pushed out to swap.")
    var swapped: Int = 128

    func run() throws { try region.run(region.options(.swap, present: 512, trigger: .khugepaged, swapped: swapped)) }
}
