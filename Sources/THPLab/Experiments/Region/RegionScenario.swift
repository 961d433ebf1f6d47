/// What one region scenario (`run collapse|sparse|latency|swap|numa`) adds
/// to the phases every region experiment shares: its own checks, where its
/// pages go, what it does between populate and the trigger, and what the
/// kernel's rules predict. One small type per scenario, in Scenarios/;
/// everything else is `RegionExperiment`'s.
protocol RegionScenario: Sendable {
    /// Its name: `run NAME`, `sweep NAME`, and the `scenario` of its results.
    var name: RegionOptions.Scenario { get }
    /// `run NAME --help`: the line under the command's name, and the text after it.
    var abstract: String { get }
    var discussion: String { get }
    /// Extents of the region, and pages of each faulted in, when the user gives none.
    var defaultExtents: Int { get }
    var defaultPresent: Int { get }
    /// Pages of each extent pushed out to swap when the user gives none.
    var defaultSwapped: Int { get }
    /// Pages of each extent left shared copy-on-write when the user gives
    /// none; nil for a scenario that shares none.
    var defaultShared: Int? { get }
    /// The trigger and the backing when the user gives none.
    var defaultTrigger: Trigger { get }
    var defaultBacking: Backing { get }
    /// Whether its pages of each extent are pages written (`--touched`,
    /// 0 to 512: bloat's) rather than pages present (`--present`, 1 to 512).
    var countsTouchedPages: Bool { get }
    /// Whether pages of each extent are left shared with a forked child
    /// (`--shared`: the shared scenario's).
    var hasSharedPages: Bool { get }
    /// Mappings of thplab's object that one other process holds, each with
    /// its role (shared, private-clean, private-written, misaligned), every
    /// page faulted in; each is judged by the expectation model too.
    var holders: [MappingRole] { get }
    /// Whether MADV_COLLAPSE may trigger it; scenarios about khugepaged
    /// (its max_ptes_* limits, its latency) refuse it.
    var allowsMadviseCollapse: Bool { get }
    /// Whether regions in more than one process may run it with this
    /// trigger (each process its own shmem or file object).
    func allowsProcesses(trigger: Trigger) -> Bool
    /// Knobs the scenario measures: the run never changes them.
    var measuredKnobs: Set<Knob> { get }
    /// Knobs its report shows beside max_ptes_none and the scan knobs.
    var reportKnobs: [Knob] { get }
    /// Checks beyond the shared ones (exit code 2 or 3).
    func validate(_ o: RegionOptions, topology: NumaTopology) throws
    /// Where the pages go when the user says nothing.
    func defaultPlacement(_ topology: NumaTopology) -> Placement?
    /// Runs before the region is made: a memory cgroup thplab joins, so
    /// that the region is charged to it and can be pressed alone (bloat).
    func confine(_ o: RegionOptions, lab: Lab) throws -> MemoryCgroup?
    /// Runs after populate, before the trigger; what it returns lives until
    /// the run ends (a swap area) and is handed to `aftermath`.
    func prepare(_ region: MappedRegion, _ o: RegionOptions, lab: Lab) throws -> AnyObject?
    /// Runs once every extent is observed: what the scenario does and sees
    /// after the collapse (bloat's memory pressure), added to the outcomes.
    func aftermath(_ a: inout Aftermath) throws
    /// How many extents of one region collapse, and the rule, in one line.
    func expectation(_ o: RegionOptions, _ rules: CollapseRules) -> (Int, String)
    /// Notes about what was seen, once the outcomes are known.
    func conclude(_ outcomes: [ExtentOutcome], numa: NumaRunSummary?, lab: Lab)
    /// Added to the rule the result states.
    var ruleSuffix: String { get }
    /// Whether `sweep` lists it, and its example there.
    var sweepable: Bool { get }
    /// Whether it is only swept: no `run NAME` of its own (the name is
    /// another experiment's there), no battery entry.
    var onlySwept: Bool { get }
    var sweepExample: String? { get }
    /// The checks a sweep of it makes beyond each point's own expectation.
    func sweepChecks(axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck]
    /// What a sweep of it should tell beyond the checks.
    func sweepNotes(points: [SweepPoint]) -> [String]
}

extension RegionScenario {
    var defaultExtents: Int { 4 }
    var defaultPresent: Int { PageGeometry.pagesPerPmd }
    var holders: [MappingRole] { [] }
    var defaultSwapped: Int { 0 }
    var defaultShared: Int? { nil }
    var defaultTrigger: Trigger { .khugepaged }
    var defaultBacking: Backing { .memfd }
    var countsTouchedPages: Bool { false }
    var hasSharedPages: Bool { false }
    var allowsMadviseCollapse: Bool { false }
    func allowsProcesses(trigger: Trigger) -> Bool { false }
    var measuredKnobs: Set<Knob> { [] }
    var reportKnobs: [Knob] { [] }
    /// What its reports call the pages of each extent it faults in.
    var presentWord: String { countsTouchedPages ? "touched" : "present" }
    func validate(_ o: RegionOptions, topology: NumaTopology) throws {}
    func defaultPlacement(_ topology: NumaTopology) -> Placement? { nil }
    func confine(_ o: RegionOptions, lab: Lab) throws -> MemoryCgroup? { nil }
    func prepare(_ region: MappedRegion, _ o: RegionOptions, lab: Lab) throws -> AnyObject? { nil }
    func aftermath(_ a: inout Aftermath) throws {}
    func expectation(_ o: RegionOptions, _ rules: CollapseRules) -> (Int, String) { rules.presentRule(o) }
    func conclude(_ outcomes: [ExtentOutcome], numa: NumaRunSummary?, lab: Lab) {}
    var ruleSuffix: String { "" }
    var sweepable: Bool { true }
    var onlySwept: Bool { false }
    var sweepExample: String? { nil }
    func sweepChecks(axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] { [] }
    func sweepNotes(points: [SweepPoint]) -> [String] { [] }
}

/// What `aftermath` works on: the run so far, and what it adds.
struct Aftermath {
    let options: RegionOptions
    let own: OwnRegion
    let reader: ExtentReader
    let rules: CollapseRules
    let knobs: [String: SysfsValue]
    let cgroup: MemoryCgroup?
    let prepared: AnyObject?
    let lab: Lab
    var outcomes: [ExtentOutcome]
    var bloat: BloatSummary?
    var tradeoff: AccessTradeoff?
    var differences: [String] = []
}

/// The kernel's collapse rules as they stand for one run: the blocker, if
/// any, and the max_ptes_* limits in force.
public struct CollapseRules: Sendable {
    public var context: ExpectationContext
    public var maxPtesNone: Int
    public var maxPtesSwap: Int
    public var maxPtesShared: Int

    public init(context: ExpectationContext, maxPtesNone: Int, maxPtesSwap: Int = 64, maxPtesShared: Int = 256) {
        self.context = context
        self.maxPtesNone = maxPtesNone
        self.maxPtesSwap = maxPtesSwap
        self.maxPtesShared = maxPtesShared
    }

    init(context: ExpectationContext, knobs: [String: SysfsValue]) {
        self.init(context: context, maxPtesNone: knobs.int(.maxPtesNone, or: 511), maxPtesSwap: knobs.int(.maxPtesSwap, or: 64),
                  maxPtesShared: knobs.int(.maxPtesShared, or: 256))
    }

    /// Pages that must be present for khugepaged to collapse an extent.
    public var presentNeeded: Int { PageGeometry.pagesPerPmd - maxPtesNone }

    /// The rules every scenario starts from: a blocker stops everything;
    /// MADV_COLLAPSE ignores max_ptes_*; nil when the scenario's own rule decides.
    func common(_ o: RegionOptions) -> (Int, String)? {
        if let blocker = ExpectationModel.collapseBlocker(context) { return (0, "no collapse: " + blocker) }
        if o.trigger == .madvise {
            return (o.extents, "MADV_COLLAPSE ignores max_ptes_none and the THP settings: every extent collapses")
        }
        return nil
    }

    /// khugepaged's max_ptes_none rule on `present` pages of each extent.
    func presentRule(_ o: RegionOptions) -> (Int, String) {
        if let c = common(o) { return c }
        let n = PageGeometry.pagesPerPmd
        if o.present >= presentNeeded {
            return (o.extents, "khugepaged collapses an extent with at least \(n) - max_ptes_none = \(presentNeeded) pages present; each has \(o.present)")
        }
        return (0, "khugepaged gives up on an extent with fewer than \(n) - max_ptes_none = \(presentNeeded) pages present (exceed_none_pte); each has \(o.present)")
    }
}

extension RegionOptions.Scenario {
    /// The defaults the scenario declares, for the command line.
    public var defaultPresent: Int { rules.defaultPresent }
    public var defaultSwapped: Int { rules.defaultSwapped }
    public var defaultShared: Int? { rules.defaultShared }
    public var defaultTrigger: Trigger { rules.defaultTrigger }
    public var defaultBacking: Backing { rules.defaultBacking }
    /// Whether it takes `--touched` (and not `--present`), and `--shared`.
    public var takesTouched: Bool { rules.countsTouchedPages }
    public var takesShared: Bool { rules.hasSharedPages }

    /// Its one-line and long help (`run NAME --help`).
    public var abstract: String { rules.abstract }
    public var discussion: String { rules.discussion }
    /// Whether `sweep` lists it, and its example in `sweep --help`.
    public var sweepable: Bool { rules.sweepable }
    public var sweepExample: String? { rules.sweepExample }
}
