/// What the tracepoints showed in a run, besides the per-extent events:
/// the events enabled and their fields, and the results they can report,
/// both read from the running kernel's format files; how many events were
/// the experiment's and how many were other processes'; which process
/// each mm was.
public struct TraceSummary: Codable, Equatable, Sendable {
    /// Each enabled event's fields, from its format file.
    public var events: [String: [String]]
    /// The scan results this kernel can report, in its own numbering order.
    public var possibleResults: [String]
    public var total: Int
    public var ours: Int
    public var others: Int
    /// Events the ring buffer lost before they were read.
    public var lost: Int
    /// Hashed mm -> pid, for the experiment's processes.
    public var processes: [String: Int32]
    /// The experiment's events that name no extent (e.g. a scan that found
    /// no page), in order.
    public var unplaced: [DiagnosedEvent]
    /// Other processes' events, with `--all-events` only.
    public var otherEvents: [DiagnosedEvent]?

    enum CodingKeys: String, CodingKey {
        case events, possibleResults = "possible_results", total, ours, others, lost, processes, unplaced
        case otherEvents = "other_events"
    }

    public init(formats: [String: TraceFormat], attribution a: EventAttribution, lost: Int, allEvents: Bool) {
        events = formats.mapValues(\.fields)
        let table = formats["mm_khugepaged_scan_file"]?.resultNames ?? formats["mm_khugepaged_scan_pmd"]?.resultNames ?? [:]
        possibleResults = table.keys.sorted().map { table[$0]! }
        total = a.total
        ours = a.ours
        others = a.others.reduce(0) { $0 + ($1.count ?? 1) }
        self.lost = lost
        processes = a.mmPids
        unplaced = a.byObject.keys.sorted().flatMap { a.byObject[$0]! }.sorted { $0.t < $1.t }
        otherEvents = allEvents ? a.others : nil
    }
}
