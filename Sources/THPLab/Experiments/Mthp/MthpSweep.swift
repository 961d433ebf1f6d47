/// `thplab sweep mthp`: `run mthp` at every combination of per-size policy
/// values (`--knob hugepages-64kB/enabled=never,always`), each point's
/// policies put back before the next, with two checks over every fault
/// step: the sizes seen are among those allowed, and the largest allowed
/// size that fits is what the faults took. Its points have no fallback step
/// (it needs a cgroup and a worker, and the checks are over fault steps).
public enum MthpSweep {
    public static func run(options: MthpOptions, axes: [SweepAxis], log: @escaping (String) -> Void,
                           progress: (_ done: Int, _ total: Int) -> Void) throws -> MthpSweepResult {
        try HostChecks.requireRootAndTHP(trigger: .madvise)
        try options.validate()
        guard !axes.isEmpty else { throw THPLabError.usage("give at least one --knob hugepages-<N>kB/enabled=V1,V2,...") }
        guard Set(axes.map(\.name)).count == axes.count else { throw THPLabError.usage("a knob is given twice") }
        for a in axes {
            var probe = MthpOptions()
            probe.knobs = ["\(a.name)=\(a.values[0])"]
            try probe.validate()
        }
        let combos = SweepAxis.points(axes)
        guard combos.count <= Sweep.maxPoints else { throw THPLabError.usage("\(combos.count) points is too many (at most \(Sweep.maxPoints))") }
        try KnobCommands.checkCanWrite()
        let sysfs = THPSysfs()
        let before = sysfs.readAll().mapValues(\.current)
        let outcome = try GuardedRun.run(command: "sweep mthp", log: log) { guardian -> [MthpSweepPoint] in
            var points: [MthpSweepPoint] = []
            for (i, combo) in combos.enumerated() {
                progress(i, combos.count)
                var o = options
                o.knobs = combo.keys.sorted().map { "\($0)=\(combo[$0]!)" }
                let r = try MthpExperiment(options: o, executable: nil).run(guardian: guardian, progress: { _ in })
                points.append(MthpSweepPoint(knobs: combo, policies: r.policies, steps: r.steps, ok: r.ok, differences: r.differences))
                guardian.restoreKnobsNow()
            }
            progress(combos.count, combos.count)
            return points
        }
        let checks = checks(outcome.result)
        var differences = outcome.result.filter { !$0.ok }.map { p in
            "at " + p.knobs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + ": " + p.differences.joined(separator: "; ")
        }
        differences += checks.filter { !$0.held }.map { "check \($0.name): \($0.detail)" }
        differences += GuardedRun.leftovers(before: before, after: outcome.knobsAfter, undone: outcome.undone)
        return MthpSweepResult(kernelRelease: Sys.uname().release, options: options, axes: axes, points: outcome.result, checks: checks,
                               knobsBefore: before, knobsAfter: outcome.knobsAfter, ok: differences.isEmpty, differences: differences)
    }

    /// The two rules over every fault step of every point.
    public static func checks(_ points: [MthpSweepPoint]) -> [SweepCheck] {
        let faults = points.flatMap { p in p.steps.filter { $0.phase == .fault }.map { (p, $0) } }
        func sizes(_ s: MthpStep) -> Set<Int> { Set(s.seen.keys.compactMap(Int.init)).subtracting([PageGeometry.pageKB]) }
        func at(_ p: MthpSweepPoint, _ s: MthpStep) -> String {
            p.knobs.sorted { $0.key < $1.key }.map { "\($0.value)" }.joined(separator: "/") + " \(s.memory.rawValue) \(s.label)"
        }
        let outside = faults.filter { !sizes($0.1).isSubset(of: Set($0.1.allowedKB)) }
        let notLargest = faults.filter { p, s in
            guard let largest = s.allowedKB.first else { return !sizes(s).isEmpty }
            return sizes(s).max() != largest
        }
        return [
            SweepCheck(name: "sizes seen are allowed", held: outside.isEmpty,
                       detail: outside.isEmpty ? "every size faults took was allowed by the policy and fitted, at all \(faults.count) fault step(s)"
                           : "a size not allowed at " + outside.map(at).joined(separator: ", ")),
            SweepCheck(name: "largest fitting size first", held: notLargest.isEmpty,
                       detail: notLargest.isEmpty ? "faults took the largest allowed size that fits at all \(faults.count) fault step(s)"
                           : "not the largest allowed size at " + notLargest.map(at).joined(separator: ", ") + " (a fragmented host may fall back)"),
        ]
    }
}
