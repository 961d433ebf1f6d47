/// The result of one `run retract`: plain values, Codable, the only thing
/// renderers see. The JSON schema is documented in docs/json-schema.md.
public struct RetractResult: Codable, Sendable {
    public var kernelRelease: String
    public var scenario = "retract"
    public var trigger: Trigger
    public var backing: Backing
    public var object: ObjectInfo
    public var options: RetractOptions
    public var ok: Bool
    public var knobsBefore: [String: String]
    public var knobsAfter: [String: String]
    public var knobsChanged: [KnobChange]
    public var deltas: SystemCounters
    public var mappings: [MappingResult]
    public var triggerCalls: [TriggerCall]
    public var khugepaged: KhugepagedWait?
    /// The object's extents: their huge_memory events and why each ended so.
    public var extents: [ObjectExtent]?
    /// The huge_memory tracepoints, when they could be read.
    public var trace: TraceSummary?
    /// Why nothing can collapse here, when that is so.
    public var collapseBlocker: String?
    /// Every way the kernel did not do what was expected; empty when `ok`.
    public var differences: [String]
    /// Things worth knowing that are not differences.
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", scenario, trigger, backing
        case object, options, ok, knobsBefore = "knobs_before", knobsAfter = "knobs_after"
        case knobsChanged = "knobs_changed", deltas, mappings, triggerCalls = "trigger_calls", khugepaged, extents, trace
        case collapseBlocker = "collapse_blocker", differences, notes
    }
}

/// One 2 MiB extent of the object, at `offset` in it.
public struct ObjectExtent: Codable, Equatable, Sendable {
    public var index: Int
    public var offset: Int
    public var diagnosis: ExtentDiagnosis
}

public struct ObjectInfo: Codable, Sendable {
    public var name: String
    public var size: Int
    /// The `huge=` option of its tmpfs mount (tmpfs and shm backings).
    public var mountHuge: String?
    /// The filesystem type (file backing).
    public var filesystem: String?

    enum CodingKeys: String, CodingKey {
        case name, size, mountHuge = "mount_huge", filesystem
    }
}

public struct KnobChange: Codable, Equatable, Sendable {
    public var name: String
    public var from: String
    public var to: String
    /// Why thplab changed it, in one line.
    public var why: String
}

public struct MappingResult: Codable, Sendable {
    public var role: MappingRole
    public var pid: Int32
    public var start: UInt
    public var end: UInt
    /// Whether this mapping lives in the process that triggered the collapse.
    public var inTriggerProcess: Bool
    /// Whether this is the mapping MADV_COLLAPSE was called on.
    public var triggerMapping: Bool
    public var expectedState: MappingState
    public var met: Bool
    /// The kernel rule behind the expectation.
    public var reason: String
    public var phases: [Phase: PhaseObservation]

    enum CodingKeys: String, CodingKey {
        case role, pid, start, end, inTriggerProcess = "in_trigger_process", triggerMapping = "trigger_mapping"
        case expectedState = "expected_state", met, reason, phases
    }

    public func phase(_ p: Phase) -> PhaseObservation? { phases[p] }
}

public struct TriggerCall: Codable, Sendable {
    public var outcome: AdviceOutcome
    public var expectedSuccess: Bool
    public var met: Bool
    public var rule: String

    enum CodingKeys: String, CodingKey {
        case outcome, expectedSuccess = "expected_success", met, rule
    }
}

/// What happened while waiting for khugepaged.
public struct KhugepagedWait: Codable, Sendable {
    public var boundSeconds: Int
    public var waitedSeconds: Double
    public var extentsTotal: Int
    public var extentsCollapsed: Int
    /// Seconds from MADV_HUGEPAGE to the first and the last collapsed extent.
    public var firstCollapseSeconds: Double?
    public var lastCollapseSeconds: Double?
    /// khugepaged `full_scans` passes completed during the wait.
    public var fullScans: Int64
    /// `mm_khugepaged_scan_file` / `collapse_file` events naming the object,
    /// when tracing was available; nil otherwise.
    public var scanEvents: Int?
    public var collapseEvents: Int?
    /// Last `result=` of a scan of the object, from the tracepoint.
    public var lastScanResult: String?
    /// Whether khugepaged looked at the object: from the tracepoints when
    /// available, else inferred (collapsed, or `full_scans` moved by 2+).
    public var visited: Bool?
    /// khugepaged emitted no event for any process and full_scans stood
    /// still: its list was empty, and the wait ended early.
    public var khugepagedIdle: Bool?
    /// One line that says what the wait showed.
    public var verdict: String

    enum CodingKeys: String, CodingKey {
        case boundSeconds = "bound_seconds", waitedSeconds = "waited_seconds", extentsTotal = "extents_total"
        case extentsCollapsed = "extents_collapsed", firstCollapseSeconds = "first_collapse_seconds"
        case lastCollapseSeconds = "last_collapse_seconds", fullScans = "full_scans", scanEvents = "scan_events"
        case collapseEvents = "collapse_events", lastScanResult = "last_scan_result", visited, verdict
        case khugepagedIdle = "khugepaged_idle"
    }
}

/// Progress while an experiment runs, for a live line on a terminal.
public enum ExperimentProgress: Sendable {
    case step(String)
    case waiting(elapsed: Double, bound: Int, fullScans: Int64, collapsed: Int, total: Int)
}
