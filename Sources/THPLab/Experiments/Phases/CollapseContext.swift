/// How an experiment asks for a collapse, as the kernel's own selftest has
/// `collapse_context`: MADV_COLLAPSE on a range now, or MADV_HUGEPAGE and a
/// bounded wait for khugepaged, made fast through the host guard (journaled,
/// put back at the end). The region, retract and mthp experiments all
/// collapse through it; the calls themselves are `MappedRegion.collapse`
/// and `adviseHugepage` (Memory/CollapseAdvice.swift).
struct CollapseContext {
    let backing: Backing
    let lab: Lab
    /// The wait's bound, in seconds.
    let boundSeconds: Int
    /// Knobs the caller measures: making khugepaged fast leaves them alone
    /// (besides the lab's pinned ones).
    var keeping: Set<String> = []

    /// khugepaged: its sleeps lowered, pages_to_scan raised and, for shmem,
    /// the shmem knob it needs (`KnobPlan.forKhugepaged`); returns the knobs
    /// then in force.
    func makeKhugepagedFast() throws -> [String: SysfsValue] {
        try lab.apply(KnobPlan.forKhugepaged(current: lab.knobs(), backing: backing).filter { !keeping.contains($0.name) })
        return lab.knobs()
    }

    /// The bounded wait for khugepaged over the extents `reader` watches,
    /// ended early on evidence (every extent collapsed, or khugepaged idle
    /// after two full scans).
    func waitForKhugepaged(_ reader: ExtentReader, signal: CollapseSignal? = nil, tracer: ScanTracer?,
                           expectCollapse: Bool, since t0: UInt64 = Sys.monotonicNanoseconds()) throws -> KhugepagedWaiter.Outcome {
        try KhugepagedWaiter(reader: reader, signal: signal ?? CollapseSignal(backing: backing), sysfs: lab.sysfs,
                             boundSeconds: boundSeconds, tracer: tracer)
            .wait(expectCollapse: expectCollapse, since: t0, progress: lab.progress)
    }
}
