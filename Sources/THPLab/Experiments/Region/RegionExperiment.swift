/// The region scenarios (`run collapse|sparse|latency|swap|numa`): one
/// region of `extents` PMD-sized extents in thplab, and one more in each
/// worker of `processes`, with `present` of each extent's pages faulted in.
/// The phases, in order: create and place the region, populate, the
/// scenario's own preparation, start tracing, trigger (MADV_COLLAPSE extent
/// by extent, or MADV_HUGEPAGE and the khugepaged wait), touch each extent
/// again, observe, judge. What differs between scenarios is in their
/// `RegionScenario` (Scenarios/). It never prints: progress goes through
/// the callback and everything seen into the `RegionResult`.
public struct RegionExperiment {
    public var options: RegionOptions
    public var sysfs = THPSysfs()
    /// Knobs the run must leave as they are (a sweep's axes, and the
    /// scenario's own subject): the plan that makes khugepaged fast skips them.
    public var pinned: Set<Knob>
    /// thplab's own binary, for the worker processes of `processes` > 1.
    public var executable = Sys.ownExecutable()

    public init(options: RegionOptions, pinned: Set<Knob> = []) {
        self.options = options
        self.pinned = pinned.union(options.scenario.rules.measuredKnobs)
    }

    /// How many extents of one region the kernel's rules say will collapse, and why.
    public static func expectation(_ o: RegionOptions, context: ExpectationContext, maxPtesNone: Int,
                                   maxPtesSwap: Int = 64, maxPtesShared: Int = 256) -> (Int, String) {
        o.scenario.rules.expectation(o, CollapseRules(context: context, maxPtesNone: maxPtesNone, maxPtesSwap: maxPtesSwap,
                                                      maxPtesShared: maxPtesShared))
    }

    public func run(guardian: HostGuard, progress: @escaping (ExperimentProgress) -> Void) throws -> RegionResult {
        let o = options
        let lab = Lab(guardian: guardian, sysfs: sysfs, pinned: pinned, progress: progress)
        lab.step("\(o.scenario.rawValue): \(o.extents) extent(s) of \(o.backing.rawValue), \(o.present) of \(PageGeometry.pagesPerPmd) pages present in each")
        let cgroup = try o.scenario.rules.confine(o, lab: lab)
        defer { cgroup?.remove() }
        let own = try OwnRegion(o, lab: lab)
        let kept = try o.scenario.rules.prepare(own.region, o, lab: lab)
        defer { withExtendedLifetime(kept) {} }
        let placed = own.checkPlacement(lab: lab)
        let others = try Competitors(o, lab: lab, executable: executable)
        defer { others.stop() }
        let holders = try MappingHolders.holding(o.scenario.rules.holders, own: own, o, lab: lab, executable: executable)
        defer { holders?.stop() }
        let regions = RegionSet(regions: [own.watched] + others.watched, extentsEach: o.extents)
        let reader = try ExtentReader(regions)
        let startedSmall = try reader.allSmall()
        let trace = try TraceSession(lab: lab, objectNames: regions.regions.compactMap(\.traceName), subject: regions.subject,
                                     pfnSources: regions.regions.enumerated().map { .init(pid: $1.pid, start: $1.start, extents: o.extents, object: $0) },
                                     pids: regions.pids) {
            Sys.touchMmapLock()
            try others.touchMmapLock()
            try holders?.touchMmapLock()
        }
        holders?.record(.populated)
        var trig = try RegionTrigger.run(o, own: own, others: others, holders: holders, reader: reader, trace: trace, lab: lab,
                                         startedSmall: startedSmall)
        holders?.record(.collapsed)
        trace.indexPFNs()
        let traced = trace.finish(allEvents: o.allEvents)
        if let traced {
            trig.wait = trig.wait.map { $0.counted(from: traced.attribution) }
            trig.refineLatency(traced, regions: regions, backing: o.backing)
        }
        // Touch each extent's first page: a collapsed shmem extent is then PMD-mapped.
        for e in 0..<o.extents { _ = try? own.region.madvise(.populateRead, offset: e * PageGeometry.pmdSize, length: PageGeometry.pageSize) }
        try others.refault()
        try holders?.refault()
        holders?.record(.refaulted)
        let outcomes = try observe(trig, regions: regions, reader: reader, own: own, placed: placed, traced: traced)
        var after = Aftermath(options: o, own: own, reader: reader, rules: CollapseRules(context: trig.context, knobs: trig.knobs),
                              knobs: trig.knobs, cgroup: cgroup, prepared: kept, lab: lab, outcomes: outcomes)
        try o.scenario.rules.aftermath(&after)
        var result = judge(after.outcomes, trig, regions: regions, own: own, placed: placed, startedSmall: startedSmall, traced: traced, lab: lab)
        result.bloat = after.bloat
        result.tradeoff = after.tradeoff
        result.differences += after.differences
        if let judged = holders?.judge(trig.context) {
            result.holders = judged.mappings
            result.differences += judged.differences
        }
        result.ok = result.differences.isEmpty
        return result
    }

    /// Every extent as it ended: collapsed or not, when, its classes, its diagnosis.
    private func observe(_ trig: RegionTrigger, regions: RegionSet, reader: ExtentReader, own: OwnRegion,
                         placed: OwnRegion.Placed, traced: TraceOutcome?) throws -> [ExtentOutcome] {
        let after = try reader.finalClasses()
        let diagnoser = ExtentDiagnoser(trigger: options.trigger, backing: options.backing, trace: traced,
                                        blocker: ExpectationModel.collapseBlocker(trig.context), fullScans: trig.wait?.fullScans)
        let nodesAfter = placed.countNodes ? own.nodesPerExtent() : []
        return (0..<regions.count).map { g in
            ExtentOutcome(pid: regions.pid(g), start: regions.start(g), presentPages: options.present,
                          collapsed: trig.collapsedAt[g] != nil, latencyMs: trig.collapsedAt[g].map { ($0 * 1000).rounded() / 1000 },
                          errnoName: trig.errnos[g], pagesAfter: after[regions.start(g)] ?? ClassCounts(),
                          diagnosis: diagnoser.diagnose(regions.ref(g), collapsed: trig.collapsedAt[g] != nil, errnoName: trig.errnos[g]),
                          nodesBefore: g < placed.nodesBefore.count ? NodeCounter.keyed(placed.nodesBefore[g]) : nil,
                          nodesAfter: g < nodesAfter.count ? NodeCounter.keyed(nodesAfter[g]) : nil)
        }
    }

    /// The outcomes against the scenario's expectation, in one result.
    private func judge(_ outcomes: [ExtentOutcome], _ trig: RegionTrigger, regions: RegionSet, own: OwnRegion,
                       placed: OwnRegion.Placed, startedSmall: Bool, traced: TraceOutcome?, lab: Lab) -> RegionResult {
        let o = options
        let rules = o.scenario.rules
        let (perRegion, rule) = rules.expectation(o, CollapseRules(context: trig.context, knobs: trig.knobs))
        let expected = perRegion * regions.regions.count
        var differences: [String] = []
        if !startedSmall { differences.append("the region was already on huge pages after populate: nothing to collapse") }
        if case .bind? = own.placement, let p = placed.problem { differences.append("placement: " + p) }
        let numa = placed.countNodes ? own.numaSummary(outcomes, problem: placed.problem) : nil
        rules.conclude(outcomes, numa: numa, lab: lab)
        let collapsed = outcomes.filter(\.collapsed).count
        if collapsed != expected {
            differences.append("\(collapsed) of \(regions.count) extent(s) collapsed, expected \(expected): \(rule)" + (trig.wait.map { "; khugepaged: \($0.verdict)" } ?? ""))
        }
        let facts = lab.facts()
        let pagesAfter = outcomes.reduce(ClassCounts()) { $0 + $1.pagesAfter }
        return RegionResult(scenario: o.scenario, kernelRelease: facts.kernelRelease, options: o,
                            knobsBefore: facts.knobsBefore, knobsAfter: [:], knobsChanged: facts.knobsChanged,
                            knobsInForce: trig.knobs.mapValues(\.current), extents: outcomes, collapsed: collapsed, total: regions.count,
                            coveragePercent: pagesAfter.coveragePercent,
                            latency: LatencyStats.of(outcomes.compactMap(\.latencyMs), extents: regions.count, source: trig.latencySource),
                            expectedCollapsed: expected, rule: rule + rules.ruleSuffix, khugepaged: trig.wait,
                            trace: traced?.summary, numa: numa, deltas: facts.deltas, ok: differences.isEmpty,
                            differences: differences, notes: facts.notes)
    }

    /// The effective `enabled` for PMD-sized anonymous THP.
    static func anonEnabled(_ knobs: [String: SysfsValue]) -> AnonEnabled? {
        if let size = knobs.value(.pmdEnabled), size != AnonEnabled.inherit { return AnonEnabled(rawValue: size) }
        return knobs.value(.enabled).flatMap(AnonEnabled.init(rawValue:))
    }
}
