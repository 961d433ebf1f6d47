/// The other process a scenario's object is mapped in
/// (`RegionScenario.holders`): one worker mapping thplab's own object once
/// per role, every page faulted in like thplab's. Each of its mappings is
/// observed as retract observes its mappings (populated, collapsed,
/// refaulted) and judged by the expectation model, as a mapping in a
/// process other than the one that collapsed.
final class Holders {
    private var worker: WorkerProcess?
    private var host: RemoteHost?
    private let observer: Observer
    private var phases: [[Phase: PhaseObservation]]

    init(_ roles: [MappingRole], own: OwnRegion, _ o: RegionOptions, lab: Lab, executable: String) throws {
        guard !roles.isEmpty, let object = own.object else {
            observer = Observer(hosts: [])
            phases = []
            return
        }
        // Before 6.6 MADV_COLLAPSE leaves the other processes' PTE tables
        // for khugepaged to retract later: it sleeps through the run, as in retract.
        if o.trigger == .madvise { try lab.apply(KnobPlan.forMadviseCollapse(current: lab.knobs(), kernel: lab.kernel)) }
        let w = try WorkerProcess(executable: executable, object: object.fd, guardian: lab.guardian)
        do {
            let h = try RemoteHost(w, size: o.extents * PageGeometry.pmdSize, specs: roles.map { MappingSpec(role: $0) })
            lab.step("mapping the object in pid \(h.pid) too: " + roles.map(\.rawValue).joined(separator: ", "))
            try h.populate()
            host = h
        } catch {
            w.stop()
            throw error
        }
        worker = w
        observer = Observer(hosts: host.map { [$0] } ?? [])
        phases = Array(repeating: [:], count: observer.count)
    }

    var pids: [Int32] { host.map { [$0.pid] } ?? [] }

    func record(_ phase: Phase) { observer.record(phase, into: &phases) }
    func touchMmapLock() throws { try host?.touchMmapLock() }
    /// khugepaged: MADV_HUGEPAGE on every mapping, as retract gives it.
    func adviseHugepage() throws { try host?.adviseHugepage(times: 2) }
    func refault() throws { try host?.refault() }

    /// Each mapping against the expectation model, once refaulted.
    func judge(_ context: ExpectationContext) -> (mappings: [MappingResult], differences: [String])? {
        guard host != nil else { return nil }
        let observed = observer.slots.enumerated().map { i, slot in
            ObservedMapping(role: slot.placement.role, pid: slot.pid, start: slot.placement.start, end: slot.placement.end,
                            inTriggerProcess: false, phases: phases[i])
        }
        return RetractEvaluation.judge(observed, context: context)
    }

    func stop() {
        worker?.stop()
        worker = nil
        host = nil
    }
}
