/// The trigger phase of a retract run: MADV_COLLAPSE on the trigger
/// process's shared mapping, or MADV_HUGEPAGE on every mapping and the
/// khugepaged wait; and what the rules said of it.
struct RetractTrigger {
    var calls: [TriggerCall] = []
    var wait: KhugepagedWait?
    var context: ExpectationContext

    static func run(_ o: RetractOptions, object: SharedObject, hosts: MappingHolders, trace: TraceSession, lab: Lab,
                    startedSmall: Bool) throws -> RetractTrigger {
        func shmemHuge() -> ShmemHuge? { KnobPlan.effectiveShmemHuge(knobs: lab.knobs(), backing: o.backing, mountHuge: object.mountHuge) }
        var t = RetractTrigger(context: lab.context(backing: o.backing, trigger: o.trigger, shmemHuge: shmemHuge(), madviseTimes: o.madviseTimes))
        switch o.trigger {
        case .madvise:
            lab.step("MADV_COLLAPSE on the shared mapping of pid \(hosts.trigger.pid)")
            if let outcome = try hosts.trigger.collapse(role: .shared) {
                t.record(outcome, ExpectationModel.collapseCallSucceeds(t.context))
            }
        case .khugepaged:
            let collapse = CollapseContext(backing: o.backing, lab: lab, boundSeconds: o.timeoutSeconds)
            _ = try collapse.makeKhugepagedFast()
            t.context.shmemHuge = shmemHuge()
            if t.context.shmemHuge == .advise && o.madviseTimes == 2 {
                lab.note("MADV_HUGEPAGE was given twice on every mapping: under shmem advise, khugepaged_enter_vma() checks eligibility with the VMA's flags from before the call, so the first call sets VM_HUGEPAGE without putting the process on khugepaged's list; the second one does (--madvise-times 1 shows it)")
            }
            lab.step("MADV_HUGEPAGE on every mapping; waiting for khugepaged (at most \(o.timeoutSeconds) s)")
            try hosts.adviseHugepage(times: o.madviseTimes)
            guard startedSmall else { break }
            let reader = try ExtentReader(RegionSet(regions: [hosts.sharedRegion(object)], extentsEach: hosts.extents))
            t.wait = try collapse.waitForKhugepaged(reader, signal: .pagesUnmapped, tracer: trace.tracer,
                                                    expectCollapse: o.fullWait || ExpectationModel.collapseBlocker(t.context) == nil).wait
        }
        return t
    }

    /// MADV_COLLAPSE on the private-written mapping after the refault
    /// (madvise trigger): the rules say it fails.
    mutating func collapsePrivateWritten(_ o: RetractOptions, hosts: MappingHolders) throws {
        guard o.trigger == .madvise, let outcome = try hosts.trigger.collapse(role: .privateWritten) else { return }
        record(outcome, ExpectationModel.collapseOnPrivateWritten(context))
    }

    private mutating func record(_ outcome: AdviceOutcome, _ want: Expectation) {
        calls.append(TriggerCall(outcome: outcome, expectedSuccess: want.state == .pmdMapped,
                                 met: outcome.succeeded == (want.state == .pmdMapped), rule: want.rule))
    }
}
