
/// `thplab sweep`: a region scenario at every combination of knob values,
/// each run `repeat` times from a fresh region, the knobs put back after
/// each point and at the end.
public enum Sweep {
    public static let maxPoints = 1000

    public static func run(options: RegionOptions, axes: [SweepAxis], repeatCount: Int,
                           log: @escaping (String) -> Void,
                           progress: (_ done: Int, _ total: Int, _ elapsed: Double) -> Void) throws -> SweepResult {
        try HostChecks.requireRootAndTHP(trigger: options.trigger)
        let available = MemoryRoom.read()
        for t in axes.first(where: { !$0.isKnob })?.values ?? [] {
            guard options.scenario.takesTouched, let n = Int(t) else { throw THPLabError.usage("--touched takes whole numbers, and only in sweep bloat and sweep benefit") }
            var o = options
            o.own.present = n
            try o.validate(room: available, topology: NumaTopology.read())
        }
        try options.validate(room: available, topology: NumaTopology.read())
        guard !axes.isEmpty else { throw THPLabError.usage("give at least one --knob NAME=V1,V2,...") }
        guard Set(axes.map(\.name)).count == axes.count else { throw THPLabError.usage("a knob is given twice") }
        guard (1...100).contains(repeatCount) else { throw THPLabError.usage("--repeat must be from 1 to 100") }
        let combos = SweepAxis.points(axes)
        guard combos.count <= maxPoints else { throw THPLabError.usage("\(combos.count) points is too many (at most \(maxPoints))") }
        try KnobCommands.checkCanWrite()
        let sysfs = THPSysfs()
        let before = sysfs.readAll().mapValues(\.current)
        let t0 = Sys.monotonicNanoseconds()
        let pinned = Set(axes.filter(\.isKnob).map { Knob(rawValue: $0.name) })
        let outcome = try GuardedRun.run(command: "sweep \(options.scenario.rawValue)", log: log) { guardian -> [SweepPoint] in
            var points: [SweepPoint] = []
            for (i, combo) in combos.enumerated() {
                progress(i, combos.count, Double(Sys.monotonicNanoseconds() - t0) / 1e9)
                for name in combo.keys.sorted() where name != SweepAxis.touchedName { try guardian.setKnob(name, combo[name]!) }
                var o = options
                if let t = combo[SweepAxis.touchedName].flatMap({ Int($0) }) { o.own.present = t }
                var runs: [RegionResult] = []
                for _ in 0..<repeatCount {
                    runs.append(try RegionExperiment(options: o, pinned: pinned).run(guardian: guardian, progress: { _ in }))
                }
                points.append(summarize(combo, runs))
                guardian.restoreKnobsNow()
            }
            progress(combos.count, combos.count, Double(Sys.monotonicNanoseconds() - t0) / 1e9)
            return points
        }
        let points = outcome.result
        let checks = builtInChecks(scenario: options.scenario, axes: axes, points: points)
        var differences = points.filter { !$0.ok }.map { p in
            "at " + p.knobs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + ": " + p.differences.joined(separator: "; ")
        }
        differences += checks.filter { !$0.held }.map { "check \($0.name): \($0.detail)" }
        differences += GuardedRun.leftovers(before: before, after: outcome.knobsAfter, undone: outcome.undone)
        let notes = options.scenario.rules.sweepNotes(points: points)
        return SweepResult(scenario: options.scenario, kernelRelease: Sys.uname().release, options: options,
                           axes: axes, repeatCount: repeatCount, points: points, checks: checks, knobsBefore: before,
                           knobsAfter: outcome.knobsAfter, ok: differences.isEmpty, differences: differences,
                           notes: notes.isEmpty ? nil : notes)
    }

    static func summarize(_ knobs: [String: String], _ runs: [RegionResult]) -> SweepPoint {
        let latencies = runs.flatMap { $0.extents.compactMap(\.latencyMs) }
        let full = runs.compactMap { $0.latency?.fullCoverageMs }.sorted()
        let total = runs.reduce(0) { $0 + $1.total }
        var point = SweepPoint(knobs: knobs, runs: runs.count, collapsed: runs.reduce(0) { $0 + $1.collapsed }, total: total,
                          expectedCollapsed: runs.reduce(0) { $0 + $1.expectedCollapsed },
                          coveragePercent: (runs.reduce(0) { $0 + $1.coveragePercent } / Double(max(1, runs.count)) * 10).rounded() / 10,
                          latency: LatencyStats.of(latencies, extents: total, source: runs.first?.latency?.source ?? .polling),
                          fullCoverageMs: full.isEmpty ? nil : full[full.count / 2],
                          ok: runs.allSatisfy(\.ok), differences: runs.flatMap(\.differences))
        point.bloat = bloat(runs, collapsed: point.collapsed, total: total)
        let tradeoffs = runs.compactMap(\.tradeoff).sorted { ($0.speedup ?? 0) < ($1.speedup ?? 0) }
        point.benefit = tradeoffs.isEmpty ? nil : tradeoffs[tradeoffs.count / 2]
        return point
    }

    /// A bloat point's figures, as means over its runs.
    static func bloat(_ runs: [RegionResult], collapsed: Int, total: Int) -> SweepBloat? {
        let summaries = runs.compactMap(\.bloat)
        guard let first = runs.first, let b = first.bloat, summaries.count == runs.count else { return nil }
        let n = summaries.count
        let added = summaries.reduce(0) { $0 + $1.addedKB } / n
        let shrinkers = summaries.compactMap(\.shrinker)
        let returned = shrinkers.count == n ? shrinkers.reduce(0) { $0 + $1.returnedKB } / n : nil
        let perRun = runs.count
        return SweepBloat(touched: b.touched, addedKB: added, returnedKB: returned,
                          split: shrinkers.reduce(0) { $0 + $1.split }, expectedSplit: shrinkers.reduce(0) { $0 + $1.expectedSplit },
                          sentence: BloatTextReport.sentence(knobs: first.knobsInForce, touched: b.touched, collapsed: collapsed / perRun,
                                                             total: total / perRun, addedKB: added, returnedKB: returned,
                                                             trigger: first.options.trigger, anon: first.options.backing == .anon))
    }

    /// The checks a sweep makes of the kernel's rules beyond each point's
    /// own expectation: the scenario's own (`RegionScenario.sweepChecks`).
    public static func builtInChecks(scenario: RegionOptions.Scenario, axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] {
        scenario.rules.sweepChecks(axes: axes, points: points)
    }
}

extension SweepCheck {
    /// A scenario's max_ptes_* rule held at every point, when its knob is an axis.
    static func knobRule(_ knob: Knob, _ rule: String, axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] {
        guard axes.contains(where: { $0.name == knob.rawValue }) else { return [] }
        let bad = points.filter { $0.collapsed != $0.expectedCollapsed }
        return [SweepCheck(name: knob.shortName + " rule", held: bad.isEmpty,
                           detail: bad.isEmpty ? "\(rule) at all \(points.count) point(s)" : "the rule failed at \(bad.count) point(s)")]
    }
}
