import ArgumentParser
import THPLab

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a scenario at every combination of knob values and tabulate what each value does.",
        discussion: """
            Scenarios: \(regionNames.joined(separator: ", ")) (see `thplab run SCENARIO --help`). Each point sets its knob \
            values, runs the scenario --repeat times on a fresh region, and puts the knobs back; at the end \
            every knob is as before. The knobs swept are left alone by the scenario (it does not make \
            khugepaged fast over them).
            mthp sweeps per-size policies: `run mthp` (without its swap step unless --swap is given) at each \
            combination, checking over every fault step that the sizes seen were allowed and that the largest \
            allowed size that fits came first.
            Example: \(examples)
                     thplab sweep mthp --knob hugepages-64kB/enabled=never,always --knob hugepages-2048kB/enabled=never,inherit
            """
    )

    /// The region scenarios a sweep lists, and their examples, as they declare them.
    static let regionNames = RegionOptions.Scenario.swept.map(\.rawValue)
    static let examples = RegionOptions.Scenario.swept.compactMap(\.sweepExample).joined(separator: "\n         ")
    static let targets = regionNames.joined(separator: ", ") + " or mthp"

    @Argument(help: ArgumentHelp(targets + "."))
    var scenario: String

    @Option(help: "mthp: anon or shmem; repeat for both (default: both).")
    var memory: [MthpMemory] = []

    @Option(help: "mthp: swap for its swap step (file, zram); default none, no swap step.")
    var swap: MthpOptions.Swap = .none

    @Option(name: .customLong("knob"), help: "NAME=V1,V2,... (repeatable; every combination is run).")
    var knobs: [String] = []

    @Option(help: "Runs per point.")
    var `repeat`: Int = 1

    @Option(help: "Pages (of 512) present in each extent (sparse).")
    var present: Int?

    @Option(help: "Pages (of 512) of each extent pushed out to swap (swap).")
    var swapped: Int?

    @Option(help: "bloat, benefit: pages (0 to 512) written per extent, one value or several (64,256,448): each is a curve of the trade-off chart.")
    var touched: String?

    @Option(help: "shared: pages (0 to 512) of each extent left shared copy-on-write with a forked child.")
    var shared: Int?

    @Option(help: "madvise or khugepaged (collapse, and mthp's collapse step; sparse, latency and swap use khugepaged).")
    var trigger: Trigger?

    @Flag(help: "Print progress lines even when stdout is not a terminal.")
    var progress = false

    @OptionGroup var region: RegionArguments

    /// What a sweep runs: a region scenario, or the multi-size THP experiment.
    enum Target {
        case region(RegionOptions.Scenario)
        case mthp

        init?(_ name: String) {
            if name == ResultKind.mthp.rawValue { self = .mthp } else if let s = RegionOptions.Scenario(rawValue: name) { self = .region(s) } else { return nil }
        }
    }

    func validate() throws {
        guard let target = Target(scenario) else {
            throw ValidationError("unknown scenario '\(scenario)': \(Self.targets)")
        }
        switch target {
        case .mthp:
            let unused = regionOnlyOptions
            guard unused.isEmpty else {
                throw ValidationError("sweep mthp does not use \(unused.joined(separator: ", ")): they shape the region scenarios' memory; sweep mthp takes --memory, --swap, --trigger, --timeout and --knob")
            }
        case .region(let s):
            if !memory.isEmpty || swap != .none {
                throw ValidationError("--memory and --swap are sweep mthp's; sweep \(scenario) takes --backing and its region options")
            }
            if touched != nil && !s.takesTouched { throw ValidationError("--touched is sweep bloat's and sweep benefit's (use --present for sparse)") }
            if shared != nil && !s.takesShared { throw ValidationError("--shared is sweep shared's") }
            if s.takesTouched && present != nil { throw ValidationError("sweep \(s.rawValue) takes --touched, not --present") }
        }
    }

    /// The region scenarios' options given with `sweep mthp`, which would
    /// otherwise be silently ignored.
    var regionOnlyOptions: [String] {
        let o = region.object
        let given: [(String, Bool)] = [
            ("--extents", region.extents != nil), ("--processes", region.processes != 1), ("--node", region.node != nil),
            ("--interleave", region.interleave != nil), ("--preferred", region.preferred != nil),
            ("--backing", o.backing != nil), ("--tmpfs-huge", o.tmpfsHuge != .advise), ("--dir", o.dir != "."),
            ("--full-wait", o.fullWait), ("--present", present != nil), ("--swapped", swapped != nil), ("--touched", touched != nil), ("--shared", shared != nil), ("--repeat", `repeat` != 1),
        ]
        return given.filter(\.1).map(\.0)
    }

    func run() throws {
        guard case .region(let scenario)? = Target(scenario) else { return try runMthp() }
        let trig = trigger ?? scenario.defaultTrigger
        var touchedValues: [String] = []
        if let touched {
            touchedValues = touched.split(separator: ",").map { String($0).trimmingWhitespace() }
            guard !touchedValues.isEmpty, touchedValues.allSatisfy({ Int($0) != nil }) else {
                throw ValidationError("--touched takes pages per extent, e.g. 64 or 64,256,448")
            }
        }
        let o = try region.options(scenario, present: touchedValues.first.flatMap { Int($0) } ?? present ?? scenario.defaultPresent, trigger: trig,
                                   swapped: swapped, shared: shared)
        var axes = try knobs.map { try SweepAxis.parse($0, sysfs: THPSysfs()) }
        if touchedValues.count > 1 { axes.append(.touched(touchedValues)) }
        let line = ProgressLine(output: region.output)
        let r = try Sweep.run(options: o, axes: axes, repeatCount: `repeat`, log: { Console.error("thplab: " + $0) }) { done, total, elapsed in
            let eta = done == 0 ? "?" : String(cFormat: "%.0f s", elapsed / Double(done) * Double(total - done))
            let text = String(cFormat: "sweep: %d/%d points, %.1f s elapsed, about ", done, total, elapsed) + eta + " remaining"
            line.update(text) { if progress { Console.error("thplab: " + $0) } }
            if done == total { line.finish() }
        }
        try region.output.emit(r) { SweepTextReport.render(r) }
        if !r.ok { throw ExitCode(1) }
    }

    func runMthp() throws {
        var o = MthpOptions()
        if !memory.isEmpty { o.memory = memory }
        o.swap = swap
        o.trigger = trigger ?? .madvise
        o.timeoutSeconds = region.object.timeout
        let axes = try knobs.map { try SweepAxis.parse($0, sysfs: THPSysfs()) }
        let line = ProgressLine(output: region.output)
        let r = try MthpSweep.run(options: o, axes: axes, log: { Console.error("thplab: " + $0) }) { done, total in
            line.update("sweep mthp: \(done)/\(total) points") { if progress { Console.error("thplab: " + $0) } }
            if done == total { line.finish() }
        }
        try region.output.emit(r) { MthpSweepTextReport.render(r) }
        if !r.ok { throw ExitCode(1) }
    }
}

extension RegionOptions.Scenario: ExpressibleByArgument {}
