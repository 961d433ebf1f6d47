/// One extent of the region: how it started and ended.
public struct ExtentOutcome: Codable, Equatable, Sendable {
    /// The process whose region holds the extent.
    public var pid: Int32
    public var start: UInt
    public var presentPages: Int
    public var collapsed: Bool
    /// Milliseconds from MADV_HUGEPAGE (khugepaged) or the start of the call
    /// (MADV_COLLAPSE) to the collapse.
    public var latencyMs: Double?
    /// MADV_COLLAPSE's errno for this extent (0 on success).
    public var errnoName: String?
    /// The extent's classes after its first page was touched again.
    public var pagesAfter: ClassCounts
    /// Its huge_memory events, the last scan result and the reason.
    public var diagnosis: ExtentDiagnosis?
    /// NUMA node -> present pages after populate and at the end (set with
    /// a placement or on a host with more than one node).
    public var nodesBefore: [String: Int]?
    public var nodesAfter: [String: Int]?
    /// bloat: what the collapse cost and the shrinker gave back.
    public var bloat: ExtentBloat?

    enum CodingKeys: String, CodingKey {
        case pid, start, presentPages = "present_pages", collapsed, latencyMs = "latency_ms", errnoName = "errno_name"
        case pagesAfter = "pages_after", diagnosis, nodesBefore = "nodes_before", nodesAfter = "nodes_after", bloat
    }
}

/// Where a latency comes from.
public enum LatencySource: String, Codable, Sendable {
    /// The tracepoints' own clock (microseconds), against a marker.
    case tracepoints
    /// Page classes read every few milliseconds while waiting.
    case polling
    /// The duration of the MADV_COLLAPSE call.
    case syscall
}

public struct LatencyStats: Codable, Equatable, Sendable {
    public var medianMs: Double
    public var minMs: Double
    public var maxMs: Double
    /// Time to the last extent's collapse, when all collapsed.
    public var fullCoverageMs: Double?
    public var source: LatencySource

    enum CodingKeys: String, CodingKey {
        case medianMs = "median_ms", minMs = "min_ms", maxMs = "max_ms", fullCoverageMs = "full_coverage_ms", source
    }

    public static func of(_ values: [Double], extents: Int, source: LatencySource) -> LatencyStats? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        func r(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
        return LatencyStats(medianMs: r(median), minMs: r(s.first!), maxMs: r(s.last!),
                            fullCoverageMs: values.count == extents ? r(s.last!) : nil, source: source)
    }
}

public struct RegionResult: Codable, Sendable {
    public var scenario: RegionOptions.Scenario
    public var kernelRelease: String
    public var options: RegionOptions
    public var knobsBefore: [String: String]
    public var knobsAfter: [String: String]
    public var knobsChanged: [KnobChange]
    /// The knob values in force during the run (a sweep point's values).
    public var knobsInForce: [String: String]
    public var extents: [ExtentOutcome]
    public var collapsed: Int
    public var total: Int
    public var coveragePercent: Double
    public var latency: LatencyStats?
    public var expectedCollapsed: Int
    /// The rule behind the expectation, in one line.
    public var rule: String
    public var khugepaged: KhugepagedWait?
    /// The huge_memory tracepoints, when they could be read.
    public var trace: TraceSummary?
    /// NUMA: the placement and the nodes' huge-page figures.
    public var numa: NumaRunSummary?
    /// bloat: resident memory before and after, and the shrinker's work.
    public var bloat: BloatSummary?
    /// benefit (swept only): the chase over the touched pages before and
    /// after the collapse, beside the memory it added.
    public var tradeoff: AccessTradeoff?
    /// The mappings of the object in another process (a scenario's
    /// holders), each judged by the expectation model.
    public var holders: [MappingResult]?
    public var deltas: SystemCounters
    public var ok: Bool
    public var differences: [String]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case scenario, kernelRelease = "kernel_release", options
        case knobsBefore = "knobs_before", knobsAfter = "knobs_after", knobsChanged = "knobs_changed"
        case knobsInForce = "knobs_in_force", extents, collapsed, total, coveragePercent = "coverage_percent", latency
        case expectedCollapsed = "expected_collapsed", rule, khugepaged, trace, numa, bloat, tradeoff, holders, deltas, ok, differences, notes
    }
}

/// What a run saw of NUMA: the placement asked for and whether it held, and
/// each node's huge-page lines (node meminfo) before and after.
public struct NumaRunSummary: Codable, Sendable {
    public var placement: String?
    /// nil without a placement.
    public var placementHeld: Bool?
    public var nodesBefore: [NumaNode]
    public var nodesAfter: [NumaNode]
    /// Huge pages made, per node they landed on (extents collapsed).
    public var hugePagesByNode: [String: Int]

    enum CodingKeys: String, CodingKey {
        case placement, placementHeld = "placement_held", nodesBefore = "nodes_before", nodesAfter = "nodes_after"
        case hugePagesByNode = "huge_pages_by_node"
    }
}
