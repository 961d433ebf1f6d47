/// `sweep benefit`: what a huge page buys for what it costs, point by
/// point. `present` (--touched) of each extent's 512 pages are written, as
/// in bloat; a dependent random chase over just those pages (the program's
/// working set) is timed on small pages; the collapse (khugepaged under the
/// point's max_ptes_none, or MADV_COLLAPSE) fills the untouched pages with
/// zeros; the chase is timed again. Each point is the memory added beside
/// the access time saved. Only swept: `run benefit` is the state comparison
/// of one working set (BenefitExperiment).
struct TradeoffScenario: RegionScenario {
    var name: RegionOptions.Scenario { .benefit }
    var abstract: String { "What a huge page buys for what it costs: the chase over the touched pages before and after the collapse, beside the memory it added." }
    var discussion: String { "" }
    var sweepExample: String? { "thplab sweep benefit --knob max_ptes_none=0,256,409,511 --touched 64,256,448" }
    /// 512 MiB: at 64 touched pages of each extent the chase walks 64 MiB
    /// of 4 kB pages, far beyond any TLB's reach, and 256 PMDs after.
    var defaultExtents: Int { 256 }
    var defaultPresent: Int { 64 }
    var defaultBacking: Backing { .anon }
    var countsTouchedPages: Bool { true }
    var allowsMadviseCollapse: Bool { true }
    var measuredKnobs: Set<Knob> { [.maxPtesNone] }
    var onlySwept: Bool { true }

    /// Rounds of each measurement, and the least time one takes.
    static let rounds = 3
    static let roundSeconds = 0.25

    func validate(_ o: RegionOptions, topology: NumaTopology) throws {
        guard o.backing == .anon || o.backing.isShmem else {
            throw THPLabError.usage("benefit needs --backing anon or shmem (memfd, tmpfs, shm): the memory a collapse adds is what it weighs")
        }
        guard o.present > 0 else { throw THPLabError.usage("benefit chases the touched pages: --touched must be from 1 to \(PageGeometry.pagesPerPmd)") }
    }

    func expectation(_ o: RegionOptions, _ r: CollapseRules) -> (Int, String) { r.presentRule(o) }

    func sweepChecks(axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] {
        SweepCheck.knobRule(.maxPtesNone, "collapsed iff touched >= \(PageGeometry.pagesPerPmd) - max_ptes_none", axes: axes, points: points)
    }

    /// What the sweep as a whole says of the noise: how far the chase moved
    /// where nothing collapsed (the machine's own change, the floor below
    /// which a speedup means nothing); and, under a hypervisor, how far the
    /// small-page time moved from point to point (each a fresh region, and
    /// the host's backing of it counts too).
    func sweepNotes(points: [SweepPoint]) -> [String] {
        let timed = points.compactMap(\.benefit).filter { $0.speedup != nil }
        var notes: [String] = []
        let idle = timed.filter { $0.collapsed == 0 }.compactMap(\.speedup)
        if let lo = idle.min(), let hi = idle.max() {
            notes.append(String(cFormat: "where nothing collapsed the chase still moved %.2fx to %.2fx between before and after: that is this machine's noise, so a speedup inside that range means nothing", lo, hi))
        }
        let hypervisor = Sys.hypervisorSignature()
        guard !hypervisor.isEmpty else { return notes }
        let spread = Dictionary(grouping: timed, by: \.touched).compactMap { t, runs -> (Int, Double, Double)? in
            let medians = runs.compactMap { $0.before?.medianNs }
            guard let lo = medians.min(), let hi = medians.max(), lo > 0, hi / lo > 4.0 / 3 else { return nil }
            return (t, lo, hi)
        }.sorted { $0.0 < $1.0 }
        guard !spread.isEmpty else { return notes }
        let ranges = spread.map { String(cFormat: "%d touched: %.0f to %.0f ns", $0.0, $0.1, $0.2) }.joined(separator: "; ")
        notes.append("under a hypervisor (CPUID \(hypervisor)) the small-page chase itself varied from point to point (\(ranges)): each point is a fresh region, and the host's backing of it counts too, which no guest can see. Compare the speedup within a point (the same region before and after), not the times across points; on bare metal there is no host backing to vary")
        return notes
    }

    /// Writes the chase into the touched pages (every one gets data), and
    /// into a control: anonymous memory with the same pages touched, kept
    /// small (MADV_NOHUGEPAGE), timed in turn with the region before and
    /// after, so that a change of the machine's own speed in between shows
    /// apart from the collapse's. Records the memory before the collapse.
    func prepare(_ region: MappedRegion, _ o: RegionOptions, lab: Lab) throws -> AnyObject? {
        let n = PageGeometry.pagesPerPmd
        let chain = AccessChain(pageIndices: (0..<o.extents).flatMap { e in (0..<o.present).map { e * n + $0 } })
        let control = try MappedRegion(anonymousLength: o.extents * PageGeometry.pmdSize)
        try control.madvise(.noHugepage)
        for r in [region, control] {
            for e in 0..<o.extents { r.writePages(offset: e * PageGeometry.pmdSize, length: o.present * PageGeometry.pageSize) }
            chain.write(into: r)
        }
        let emulated = Sys.isSoftwareEmulation(Sys.hypervisorSignature())
        if !emulated { try lab.apply(KnobPlan.forQuietTiming(current: lab.knobs())) }
        let steps = emulated ? 0 : chain.steps(for: Self.roundSeconds, in: region)
        if !emulated { lab.step("timing the chase over \(chain.pages) touched pages on small pages, and a small-page control") }
        return Before(residentPages: BloatScenario.resident(region, extents: o.extents).pages, chain: chain, steps: steps,
                      samples: Self.time([region, control], chain: chain, steps: steps), control: control, emulated: emulated)
    }

    final class Before {
        let residentPages: [Int]
        let chain: AccessChain
        let steps: UInt64
        /// ns per load: the region's and the control's.
        let samples: [[Double]]
        let control: MappedRegion
        let emulated: Bool
        init(residentPages: [Int], chain: AccessChain, steps: UInt64, samples: [[Double]], control: MappedRegion, emulated: Bool) {
            self.residentPages = residentPages
            self.chain = chain
            self.steps = steps
            self.samples = samples
            self.control = control
            self.emulated = emulated
        }
    }

    /// `rounds` measurements of each region in turn, ns per dependent load;
    /// none under emulation.
    static func time(_ regions: [MappedRegion], chain: AccessChain, steps: UInt64) -> [[Double]] {
        var samples = Array(repeating: [Double](), count: regions.count)
        guard steps > 0 else { return samples }
        for _ in 0..<rounds {
            for (i, r) in regions.enumerated() {
                samples[i].append(chain.nanosecondsPerLoad(in: r, steps: steps))
            }
        }
        return samples
    }

    /// Times the chase again over the same pages, now collapsed or not, and
    /// the control; weighs them against the zeros the collapse made resident.
    func aftermath(_ a: inout Aftermath) throws {
        guard let before = a.prepared as? Before else { return }
        let o = a.options, region = a.own.region
        if !before.emulated {
            try a.lab.apply(KnobPlan.forQuietTiming(current: a.lab.knobs()))
            a.lab.step("timing the chase again after the collapse, and the control")
        }
        let after = Self.time([region, before.control], chain: before.chain, steps: before.steps)
        let resident = BloatScenario.resident(region, extents: o.extents).pages
        let added = zip(resident, before.residentPages).reduce(0) { $0 + $1.0 - $1.1 } * PageGeometry.pageKB
        var t = AccessTradeoff(touched: o.present, extents: o.extents, collapsed: a.outcomes.filter(\.collapsed).count, addedKB: added,
                               before: AccessFigure.of(before.samples[0]), after: AccessFigure.of(after[0]), rounds: Self.rounds,
                               noTiming: before.emulated ? "the CPU is emulated in software: an access's time is the emulator's" : nil)
        t.control(before: AccessFigure.of(before.samples[1]), after: AccessFigure.of(after[1]))
        a.tradeoff = t
    }
}

extension RegionOptions.Scenario {
    public static let benefit = Self(declaring: "benefit")
}
