/// The huge_memory tracepoints for one run: a private tracefs instance
/// (none when tracefs cannot be had, with a note saying so), what its events
/// are attributed to, and the PFN index that ties scan events to extents.
final class TraceSession {
    /// Where the PFNs of an object's extents are read: a mapping of it.
    struct PfnSource {
        var pid: Int32
        var start: UInt
        var extents: Int
        var object: Int
    }

    let tracer: ScanTracer?
    private(set) var subject: TraceSubject
    private let sources: [PfnSource]

    /// Starts tracing and tells the kernel's mm ids of `pids` apart
    /// (`touch` takes each one's mmap_lock once).
    init(lab: Lab, objectNames: [String], subject: TraceSubject, pfnSources: [PfnSource],
         pids: [Int32], touch: () throws -> Void) throws {
        self.subject = subject
        self.sources = pfnSources
        tracer = ScanTracer.start(guardian: lab.guardian, objectNames: objectNames, notes: &lab.notes)
        indexPFNs()
        self.subject.knownMMs = try tracer?.identifyProcesses(pids, touch: touch) ?? [:]
    }

    deinit { tracer?.stop() }

    /// Adds the PFNs the extents have now (small pages before the trigger,
    /// huge pages after it).
    func indexPFNs() {
        for s in sources {
            PfnIndex.add(pid: s.pid, start: s.start, extents: s.extents, object: s.object, into: &subject.pfnExtent)
        }
    }

    func mark(_ text: String) { tracer?.mark(text) }

    /// Stops tracing and attributes every event: nil without tracepoints.
    func finish(allEvents: Bool) -> TraceOutcome? {
        guard let tracer else { return nil }
        tracer.stop()
        let events = tracer.events()
        let attribution = EventAttribution.attribute(events, subject: subject)
        return TraceOutcome(events: events, attribution: attribution, formats: tracer.formats,
                            summary: TraceSummary(formats: tracer.formats, attribution: attribution,
                                                  lost: tracer.lostEvents(), allEvents: allEvents))
    }
}

/// What the tracepoints showed, attributed.
struct TraceOutcome {
    var events: [TraceEvent]
    var attribution: EventAttribution
    var formats: [String: TraceFormat]
    var summary: TraceSummary

    /// Whether this kernel has a tracepoint that marks a collapse of this
    /// memory (6.1 has none for files).
    func collapseTraced(_ backing: Backing) -> Bool {
        backing == .anon || formats["mm_khugepaged_collapse_file"] != nil
    }
}

/// Turns each extent's events and facts into its diagnosis: the same for
/// every experiment.
struct ExtentDiagnoser {
    var trigger: Trigger
    var backing: Backing
    var trace: TraceOutcome?
    var blocker: String?
    var fullScans: Int64?

    func diagnose(_ ref: ExtentRef, collapsed: Bool, errnoName: String?) -> ExtentDiagnosis {
        let a = trace?.attribution
        var facts = ExtentDiagnosis.Facts(collapsed: collapsed, trigger: trigger, errnoName: errnoName,
                                          traced: a != nil, objectSeen: a?.saw(object: ref.object) ?? false,
                                          blocker: blocker, fullScans: fullScans, objectEvents: a?.byObject[ref.object] ?? [])
        facts.collapseTraced = trace?.collapseTraced(backing) ?? (backing == .anon)
        return ExtentDiagnosis.diagnose(events: a?.byExtent[ref] ?? [], facts: facts)
    }
}
