import ArgumentParser
import THPLab

/// Options shared by `run collapse`, `run sparse` and `run latency`.
struct RegionArguments: ParsableArguments {
    @Option(help: "Number of 2 MiB extents in the region (default: the scenario's; 4, or 256 for sweep benefit).")
    var extents: Int?

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
        o.extents = extents ?? o.extents
        if let swapped { o.swapped = swapped }
        if let present { o.present = present }
        return o
    }

    func run(_ o: RegionOptions) throws {
        try output.runExperiment({ try RegionRunner.run(options: o, log: { Console.error("thplab: " + $0) }, progress: $0) },
                                 text: RegionTextReport.render)
    }
}

/// A region scenario's subcommand: its name and help are the scenario's own
/// declarations; the command only parses its options.
protocol RegionScenarioCommand: ParsableCommand {
    static var scenario: RegionOptions.Scenario { get }
}

extension RegionScenarioCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: scenario.rawValue, abstract: scenario.abstract, discussion: scenario.discussion)
    }
}

struct CollapseScenario: RegionScenarioCommand {
    static let scenario = RegionOptions.Scenario.collapse
    @OptionGroup var region: RegionArguments
    @Option(help: "madvise (MADV_COLLAPSE, extent by extent) or khugepaged.")
    var trigger: Trigger = scenario.defaultTrigger

    func run() throws { try region.run(try region.options(Self.scenario, present: 512, trigger: trigger)) }
}

struct SparseScenario: RegionScenarioCommand {
    static let scenario = RegionOptions.Scenario.sparse
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (of 512) faulted in at the start of each extent.")
    var present: Int = scenario.defaultPresent

    func run() throws { try region.run(try region.options(Self.scenario, present: present, trigger: .khugepaged)) }
}

struct LatencyScenario: RegionScenarioCommand {
    static let scenario = RegionOptions.Scenario.latency
    @OptionGroup var region: RegionArguments

    func run() throws { try region.run(try region.options(Self.scenario, present: 512, trigger: .khugepaged)) }
}

struct SwapScenario: RegionScenarioCommand {
    static let scenario = RegionOptions.Scenario.swap
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (of 512) of each extent pushed out to swap.")
    var swapped: Int = scenario.defaultSwapped

    @Option(help: "Where to make the swap file when the host has no swap.")
    var swapDir: String = "/var/tmp"

    func run() throws {
        var o = try region.options(Self.scenario, present: 512, trigger: .khugepaged, swapped: swapped)
        o.own.swapDirectory = swapDir == "/var/tmp" ? nil : swapDir
        try region.run(o)
    }
}

struct NumaScenario: RegionScenarioCommand {
    static let scenario = RegionOptions.Scenario.numa
    @OptionGroup var region: RegionArguments
    @Option(help: "madvise (MADV_COLLAPSE) or khugepaged.")
    var trigger: Trigger = scenario.defaultTrigger

    func run() throws { try region.run(try region.options(Self.scenario, present: 512, trigger: trigger)) }
}

struct BloatScenario: RegionScenarioCommand {
    static let scenario = RegionOptions.Scenario.bloat
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (0 to 512) of each extent written before the collapse; the rest stay untouched.")
    var touched: Int = scenario.defaultPresent
    @Option(help: "khugepaged (collapses only with at least 512 - max_ptes_none pages touched) or madvise (MADV_COLLAPSE: always).")
    var trigger: Trigger = scenario.defaultTrigger

    func run() throws { try region.run(try region.options(Self.scenario, present: touched, trigger: trigger)) }
}

struct SharedScenario: RegionScenarioCommand {
    static let scenario = RegionOptions.Scenario.shared
    @OptionGroup var region: RegionArguments
    @Option(help: "Pages (0 to 512) of each extent left shared with the child.")
    var shared: Int = scenario.defaultShared ?? 0
    @Option(help: "khugepaged (the limit applies) or madvise (MADV_COLLAPSE ignores it).")
    var trigger: Trigger = scenario.defaultTrigger

    func run() throws { try region.run(try region.options(Self.scenario, present: 512, trigger: trigger, shared: shared)) }
}
