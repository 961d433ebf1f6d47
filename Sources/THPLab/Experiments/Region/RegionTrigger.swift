/// The trigger phase of a region experiment and what it found: which
/// extents collapsed and when, MADV_COLLAPSE's errnos, the khugepaged wait,
/// and the knobs and rules in force while it ran.
struct RegionTrigger {
    /// Milliseconds from MADV_HUGEPAGE (khugepaged) or the start of the call
    /// (MADV_COLLAPSE) to each collapsed extent.
    var collapsedAt: [Int: Double] = [:]
    var errnos: [Int: String] = [:]
    var wait: KhugepagedWait?
    var latencySource: LatencySource = .polling
    var knobs: [String: SysfsValue]
    var context: ExpectationContext

    static let eligibleMark = "thplab-eligible"

    static func run(_ o: RegionOptions, own: OwnRegion, others: Competitors, holders: MappingHolders?, reader: ExtentReader, trace: TraceSession,
                    lab: Lab, startedSmall: Bool) throws -> RegionTrigger {
        var t = RegionTrigger(knobs: lab.knobs(), context: lab.context(backing: o.backing, trigger: o.trigger, shmemHuge: nil))
        let collapse = CollapseContext(backing: o.backing, lab: lab, boundSeconds: o.timeoutSeconds)
        switch o.trigger {
        case .madvise:
            t.context.shmemHuge = KnobPlan.effectiveShmemHuge(knobs: t.knobs, backing: o.backing, mountHuge: own.object?.mountHuge)
            lab.step("MADV_COLLAPSE extent by extent")
            for e in 0..<o.extents {
                let call = own.region.collapse(offset: e * PageGeometry.pmdSize, length: PageGeometry.pmdSize)
                if let name = call.errnoName { t.errnos[e] = name } else { t.collapsedAt[e] = call.milliseconds }
                if let note = call.retryNote { lab.note("extent \(e): " + note) }
            }
            t.latencySource = .syscall
        case .khugepaged:
            t.knobs = try collapse.makeKhugepagedFast()
            t.context.shmemHuge = KnobPlan.effectiveShmemHuge(knobs: t.knobs, backing: o.backing, mountHuge: own.object?.mountHuge)
            t.context.anonEnabled = RegionExperiment.anonEnabled(t.knobs)
            let expectCollapse = o.fullWait || o.scenario.rules.expectation(o, CollapseRules(context: t.context, knobs: t.knobs)).0 > 0
            lab.step("MADV_HUGEPAGE; waiting for khugepaged (at most \(o.timeoutSeconds) s)")
            // The clock starts just before MADV_HUGEPAGE: khugepaged may
            // collapse the first extent before the call even returns.
            trace.mark(eligibleMark)
            let t0 = Sys.monotonicNanoseconds()
            _ = own.region.adviseHugepage(times: 2)
            try others.adviseHugepage()
            try holders?.adviseHugepage(times: 2)
            guard startedSmall else { break }
            let waited = try collapse.waitForKhugepaged(reader, tracer: trace.tracer, expectCollapse: expectCollapse, since: t0)
            t.collapsedAt = waited.collapsedAt.mapValues { $0 * 1000 }
            t.wait = waited.wait
        }
        return t
    }

    /// Exact collapse times from the tracepoints' own clock, relative to the
    /// marker written just before MADV_HUGEPAGE, when every collapsed extent
    /// has one: file and shmem from collapse_file's events, anonymous memory
    /// from collapse_huge_page's.
    mutating func refineLatency(_ traced: TraceOutcome, regions: RegionSet, backing: Backing) {
        guard wait != nil, !collapsedAt.isEmpty else { return }
        var times: [Int: Double] = [:]
        if backing != .anon {
            for (r, region) in regions.regions.enumerated() {
                guard let name = region.traceName else { continue }
                let byStart = ScanTracer.collapseTimes(events: traced.events, mark: Self.eligibleMark, objectName: name)
                for e in 0..<regions.extentsEach {
                    let g = r * regions.extentsEach + e
                    if let s = byStart[regions.start(g)] { times[g] = s * 1000 }
                }
            }
        } else if let start = traced.events.first(where: { $0.markText == ScanTracer.startMark })?.timestamp,
                  let eligible = traced.events.first(where: { $0.markText == Self.eligibleMark })?.timestamp {
            for g in collapsedAt.keys {
                if let made = traced.attribution.byExtent[regions.ref(g)]?.first(where: ExtentDiagnosis.madeHugePage) {
                    times[g] = (made.t - (eligible - start)) * 1000
                }
            }
        }
        guard collapsedAt.keys.allSatisfy({ times[$0] != nil }) else { return }
        for g in collapsedAt.keys { collapsedAt[g] = times[g] }
        latencySource = .tracepoints
    }
}
