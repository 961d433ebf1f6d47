
/// Why one VMA is or is not on huge pages, and what would stop a collapse.
public struct VmaExplanation: Codable, Sendable {
    public var start: UInt
    public var end: UInt
    public var name: String
    public var kind: VmaKind
    /// smaps' `THPeligible` (the kernel's own verdict for khugepaged/faults).
    public var thpEligible: Bool?
    /// The VmFlags that matter to THP: hg (MADV_HUGEPAGE), nh
    /// (MADV_NOHUGEPAGE), uw (userfaultfd write-protect), ex, sh, wr.
    public var flags: [String]
    /// Anonymous kB in a file mapping (copy-on-write pages: an anon_vma).
    public var anonKBInFileMapping: Int
    /// Whether address and file offset agree modulo 2 MiB (file and shmem).
    public var aligned: Bool?
    /// Whole 2 MiB-aligned extents inside the VMA.
    public var wholeExtents: Int
    /// kB per page class now.
    public var classesKB: [String: Int]
    public var coveragePercent: Double
    /// What would stop a collapse here, each inferred from state and the
    /// kernel's rules (not observed).
    public var blockers: [String]
    public var verdict: String
    /// The process (explain over several processes names each VMA's).
    public var pid: Int32? = nil
    public var offset: UInt64 = 0
    /// Resident kB not PMD-mapped, by the blocker that holds it back (a
    /// VMA's own blockers take all of it, the first in BlockerKind order;
    /// without one, each extent is judged: holes, mTHP, not collapsed).
    public var heldBackKB: [BlockerKind: Int] = [:]
    /// Every VMA-level blocker that applies, in order.
    public var kinds: [BlockerKind] = []
    /// Multi-size THP: each folio size a fault may give the VMA now, or
    /// why not (anonymous memory and the kernel's internal shmem mount, on
    /// kernels with per-size policies; nil elsewhere).
    public var sizes: [SizeVerdict]? = nil

    enum CodingKeys: String, CodingKey {
        case start, end, name, kind, thpEligible = "thp_eligible", flags, anonKBInFileMapping = "anon_kb_in_file_mapping"
        case aligned, wholeExtents = "whole_extents", classesKB = "classes_kb", coveragePercent = "coverage_percent"
        case blockers, verdict, pid, offset, heldBackKB = "held_back_kb", kinds, sizes
    }
}

public struct ExplainResult: Codable, Sendable {
    public var kernelRelease: String
    /// The first process (the only one for `--pid`).
    public var pid: Int32
    public var comm: String
    public var knobs: [String: String]
    public var vmas: [VmaExplanation]
    public var notes: [String]
    public var targets: [String]? = nil
    public var processes: [ExplainedProcess]? = nil
    public var summary: TriageSummary? = nil
    /// By held-back kB, largest first.
    public var blockers: [RankedBlocker]? = nil
    public var objects: [MappedObject]? = nil

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", pid, comm, knobs, vmas, notes
        case targets, processes, summary, blockers, objects
    }
}
