/// One mapping as it was observed, before it is judged.
public struct ObservedMapping: Sendable {
    public var role: MappingRole
    public var pid: Int32
    public var start: UInt
    public var end: UInt
    public var inTriggerProcess: Bool
    public var phases: [Phase: PhaseObservation]

    public init(role: MappingRole, pid: Int32, start: UInt, end: UInt, inTriggerProcess: Bool,
                phases: [Phase: PhaseObservation]) {
        self.role = role
        self.pid = pid
        self.start = start
        self.end = end
        self.inTriggerProcess = inTriggerProcess
        self.phases = phases
    }
}

/// Compares what was observed with what the expectation model predicts,
/// and words every difference. Pure: unit-tested on synthetic observations.
public enum RetractEvaluation {
    /// Judges every mapping by its state after refault.
    public static func judge(_ observed: [ObservedMapping], context: ExpectationContext) -> (mappings: [MappingResult], differences: [String]) {
        var mappings: [MappingResult] = []
        var differences: [String] = []
        for o in observed {
            let isTrigger = o.inTriggerProcess && o.role == .shared && context.trigger == .madvise
            let e = ExpectationModel.expect(role: o.role, inTriggerProcess: o.inTriggerProcess,
                                            isTriggerMapping: isTrigger, context)
            let final = o.phases[.refaulted]
            let met = final?.state == e.state
            mappings.append(MappingResult(role: o.role, pid: o.pid, start: o.start, end: o.end,
                                          inTriggerProcess: o.inTriggerProcess, triggerMapping: isTrigger,
                                          expectedState: e.state, met: met, reason: e.rule, phases: o.phases))
            if !met {
                differences.append("pid \(o.pid) \(o.role.rawValue): expected \(e.state.rawValue) after refault, saw \(final?.state.rawValue ?? "nothing")")
            }
        }
        return (mappings, differences)
    }

    /// Differences in the trigger itself: a madvise call that did not do
    /// what was expected, or a khugepaged wait that ended before the
    /// collapse it should have seen.
    public static func triggerDifferences(calls: [TriggerCall], wait: KhugepagedWait?, context: ExpectationContext) -> [String] {
        var out: [String] = []
        for call in calls where !call.met {
            out.append("\(call.outcome.advice) on \(call.outcome.role.rawValue) (pid \(call.outcome.pid)): expected \(call.expectedSuccess ? "success" : "failure"), got \(call.outcome.succeeded ? "success" : call.outcome.errnoName ?? "error")")
        }
        if let wait, ExpectationModel.collapseBlocker(context) == nil, wait.extentsCollapsed < wait.extentsTotal {
            out.append("khugepaged: \(wait.verdict)")
        }
        return out
    }

    /// Whether a mapping was already on huge pages after populate (a THP
    /// per kpageflags, or anything PMD-mapped), so there was nothing to collapse.
    public static func populatedHuge(_ phases: [Phase: PhaseObservation]) -> Bool {
        guard let p = phases[.populated] else { return false }
        return (p.thpKB ?? 0) > 0 || p.pmdMappedKB > 0
    }
}
