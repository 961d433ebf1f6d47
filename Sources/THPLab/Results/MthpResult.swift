/// One expectation on a per-size counter over one step: the counter's
/// delta must be at least `atLeast` (the counters are system-wide, so other
/// processes can only add to them).
public struct CounterCheck: Codable, Equatable, Sendable {
    public var sizeKB: Int
    public var counter: String
    public var atLeast: Int64
    /// The delta seen; nil where this kernel has no such counter.
    public var seen: Int64?
    public var why: String

    public var holds: Bool? { seen.map { $0 >= atLeast } }

    enum CodingKeys: String, CodingKey { case sizeKB = "size_kb", counter, atLeast = "at_least", seen, why }
}

/// One step of `run mthp`: a VMA, what was done to it, the folio sizes the
/// model expects and those pagemap/kpageflags saw, and the per-size
/// counters' deltas over the step.
public struct MthpStep: Codable, Sendable {
    public enum Phase: String, Codable, Sendable { case fault, fallback, partial, collapse, swap, write }

    public var phase: Phase
    public var memory: MthpMemory
    /// `plain`, `advised`, `offset`, `tiny`, `pmd` (fault), or the phase's name.
    public var label: String
    public var start: UInt
    public var lengthKB: Int
    public var advised: Bool
    /// The file offset mapped at `start` (shmem); nil for anonymous memory.
    public var fileOffset: UInt?
    /// Sizes the policies and the VMA's shape allow, largest first.
    public var allowedKB: [Int]
    /// Each offered size that cannot appear here, and why.
    public var excluded: [String: String]
    /// Pages by folio size in kB before the step's action (nil: the fault step).
    public var before: [String: Int]?
    public var expected: [String: Int]
    public var seen: [String: Int]
    public var swappedPages: Int
    /// The per-size counters that moved over the step (whole system).
    public var counters: PerSizeStats
    public var checks: [CounterCheck]
    /// What the model says, in one line.
    public var rule: String
    public var errnoName: String?
    /// The errno the model expects of the step's call (nil: success).
    public var expectedErrno: String?
    /// What the model expects before the action, where it predicts it (collapse).
    public var expectedBefore: [String: Int]?
    /// Collapse: the huge_memory events of the range and the kernel's reason.
    public var diagnosis: ExtentDiagnosis?
    /// Collapse by khugepaged: the wait.
    public var khugepaged: KhugepagedWait?
    public var ok: Bool

    enum CodingKeys: String, CodingKey {
        case phase, memory, label, start, lengthKB = "length_kb", advised, fileOffset = "file_offset", allowedKB = "allowed_kb"
        case excluded, before, expected, seen, swappedPages = "swapped_pages", counters, checks, rule, errnoName = "errno_name", expectedErrno = "expected_errno"
        case expectedBefore = "expected_before", diagnosis, khugepaged, ok
    }
}

public struct MthpResult: Codable, Sendable {
    public var kernelRelease: String
    public var options: MthpOptions
    public var knobsBefore: [String: String]
    public var knobsAfter: [String: String]
    public var knobsChanged: [KnobChange]
    public var knobsInForce: [String: String]
    /// Per memory, the sizes whose policy is not never, `inherit` resolved.
    public var policies: [String: String]
    public var steps: [MthpStep]
    /// The swap the swap steps used, and whether its device is rotational.
    public var swap: String?
    public var swapRotational: Bool?
    public var deltas: SystemCounters
    public var ok: Bool
    public var differences: [String]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", options, knobsBefore = "knobs_before", knobsAfter = "knobs_after"
        case knobsChanged = "knobs_changed", knobsInForce = "knobs_in_force", policies, steps, swap
        case swapRotational = "swap_rotational", deltas, ok, differences, notes
    }
}

extension MthpResult: GuardedResult {}
