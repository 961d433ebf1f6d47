
/// One VMA before and after.
public struct VmaDiff: Codable, Equatable, Sendable {
    public var start: UInt
    public var end: UInt
    public var backing: VmaBacking
    /// `matched`, `appeared` (only after) or `disappeared` (only before).
    public var presence: String
    public var beforeKB: [String: Int]?
    public var afterKB: [String: Int]?
    public var pmdDeltaKB: Int
    public var coverageBefore: Double?
    public var coverageAfter: Double?
    /// Extents that were not PMD-mapped before and are now, and the reverse.
    public var extentsBecamePmd: Int
    public var extentsLeftPmd: Int
    /// `became huge`, `stopped being huge`, `mixed`, `mthp changed` (PMD
    /// mappings the same, mTHP sizes not) or `unchanged`.
    public var change: String
    /// mTHP kB by folio size ("64" -> kB) before and after.
    public var mthpBeforeKB: [String: Int]?
    public var mthpAfterKB: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case start, end, backing, presence, beforeKB = "before_kb", afterKB = "after_kb", pmdDeltaKB = "pmd_delta_kb"
        case coverageBefore = "coverage_before", coverageAfter = "coverage_after"
        case extentsBecamePmd = "extents_became_pmd", extentsLeftPmd = "extents_left_pmd", change
        case mthpBeforeKB = "mthp_before_kb", mthpAfterKB = "mthp_after_kb"
    }
}

public struct ProcessDiff: Codable, Equatable, Sendable {
    public var pid: Int32
    public var comm: String
    public var vmas: [VmaDiff]
    public var totalsBeforeKB: [String: Int]
    public var totalsAfterKB: [String: Int]
    public var coverageBefore: Double
    public var coverageAfter: Double
    /// kB that became PMD-mapped, and kB that stopped being PMD-mapped.
    public var becameHugeKB: Int
    public var stoppedHugeKB: Int

    enum CodingKeys: String, CodingKey {
        case pid, comm, vmas, totalsBeforeKB = "totals_before_kb", totalsAfterKB = "totals_after_kb"
        case coverageBefore = "coverage_before", coverageAfter = "coverage_after"
        case becameHugeKB = "became_huge_kb", stoppedHugeKB = "stopped_huge_kb"
    }

    /// No change (a dry run, or nothing attempted).
    public static func empty(pid: Int32) -> ProcessDiff {
        ProcessDiff(pid: pid, comm: "", vmas: [], totalsBeforeKB: [:], totalsAfterKB: [:], coverageBefore: 0, coverageAfter: 0,
                    becameHugeKB: 0, stoppedHugeKB: 0)
    }
}

public struct DiffResult: Codable, Sendable {
    public var beforeTakenAt: Double
    public var afterTakenAt: Double
    public var processes: [ProcessDiff]
    /// after - before of the system counters, per-size ones included, when
    /// both snapshots were taken with --system.
    public var system: SystemCounters?
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case beforeTakenAt = "before_taken_at", afterTakenAt = "after_taken_at"
        case processes, system, notes
    }

    public init(beforeTakenAt: Double, afterTakenAt: Double, processes: [ProcessDiff], system: SystemCounters? = nil, notes: [String]) {
        self.beforeTakenAt = beforeTakenAt
        self.afterTakenAt = afterTakenAt
        self.processes = processes
        self.system = system
        self.notes = notes
    }
}
