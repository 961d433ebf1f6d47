import SystemPackage

/// MADV_COLLAPSE of one extent inside another process.
public struct ExtentAttempt: Codable, Equatable, Sendable {
    public var start: UInt
    public var end: UInt
    /// 0 on success.
    public var errno: Int32
    public var errnoName: String?
    /// What the errno means for MADV_COLLAPSE.
    public var meaning: String
    public var pid: Int32? = nil
    /// Whether the after-view shows the extent PMD-mapped.
    public var pmdMappedAfter: Bool? = nil
    /// The specific cause where the before- and after-views show it.
    public var cause: String? = nil

    enum CodingKeys: String, CodingKey { case start, end, errno, errnoName = "errno_name", meaning, pid, pmdMappedAfter = "pmd_mapped_after", cause }
}

public struct CollapseResult: Codable, Sendable {
    public var kernelRelease: String
    public var pid: Int32
    public var start: UInt
    public var end: UInt
    public var attempts: [ExtentAttempt]
    /// Attempted extents PMD-mapped afterwards.
    public var succeeded: Int
    /// Attempted extents the kernel returned an error for.
    public var refused: Int
    /// The VMAs the range touches, before and after (the first process).
    public var diff: ProcessDiff
    public var targets: [String]? = nil
    public var pids: [Int32]? = nil
    /// `--dry-run`: the plan only, nothing sent to the kernel.
    public var dryRun: Bool? = nil
    public var planned: Int? = nil
    /// Extents not sent to the kernel, one line per reason.
    public var skipped: [SkipGroup]? = nil
    /// Attempted extents not PMD-mapped afterwards (refused, or success
    /// without a PMD here).
    public var notPmdMapped: Int? = nil
    public var seconds: Double? = nil
    /// Every process's before/after diff of the VMAs attempted.
    public var diffs: [ProcessDiff]? = nil
    public var notes: [String]? = nil
    /// `--measure`: the user's command before and after the collapse.
    public var measure: CollapseMeasure? = nil
    /// The extents to attempt, as runs of adjacent extents per process.
    public var plan: [PlanSpan]? = nil

    /// Every attempted extent ended PMD-mapped, and, if none could be
    /// attempted, only "already PMD-mapped" or "not resident" stood in the way.
    public var reachedGoal: Bool {
        if let after = measure?.after, after.exitCode != 0 { return false }
        if attempts.isEmpty {
            return (skipped ?? []).allSatisfy { $0.reason == .alreadyPmd || $0.reason == .notResident }
        }
        return (notPmdMapped ?? refused) == 0
    }

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", pid, start, end, attempts
        case succeeded, refused, diff, targets, pids, dryRun = "dry_run", planned, skipped, notPmdMapped = "not_pmd_mapped"
        case seconds, diffs, notes, plan, measure
    }
}

/// `collapse --measure`: the command, and each of its two runs.
public struct CollapseMeasure: Codable, Sendable {
    public var command: [String]
    public var before: MeasureRun
    public var after: MeasureRun?
}

/// One run of the measure command.
public struct MeasureRun: Codable, Sendable {
    public var exitCode: Int32
    public var seconds: Double
    /// The last line of its output with a figure in it (`tps = 1234.5 ...`).
    public var figure: String?
    /// Why it failed: the last line of its errors.
    public var errorLine: String?

    enum CodingKeys: String, CodingKey { case exitCode = "exit_code", seconds, figure, errorLine = "error_line" }
}
