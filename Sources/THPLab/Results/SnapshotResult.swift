/// Where a VMA's pages come from, as smaps names it.
public struct VmaBacking: Codable, Equatable, Hashable, Sendable {
    public var name: String
    public var device: String
    public var inode: UInt64
    /// File offset of the VMA's start, in bytes.
    public var offset: UInt64
}

/// One 2 MiB-aligned extent of a VMA (the first and last may be shorter).
public struct ExtentCoverage: Codable, Equatable, Sendable {
    public var start: UInt
    public var end: UInt
    /// 4 KiB pages per class.
    public var pages: ClassCounts
    /// One letter per page (`--pages`): P pmd, T pte-thp, m mthp, s small,
    /// w swapped, . none.
    public var pageClasses: String?
    /// NUMA node -> present pages, from their PFNs (multi-node hosts, or
    /// `snapshot --numa`).
    public var nodes: [String: Int]? = nil

    enum CodingKeys: String, CodingKey {
        case start, end, pages, pageClasses = "page_classes", nodes
    }
}

/// Page tables against smaps for one VMA: the PMD-mapped kB must agree
/// while the process is quiescent.
public struct CrossCheck: Codable, Equatable, Sendable {
    public var pageTablesPmdKB: Int
    public var smapsPmdKB: Int
    public var agree: Bool { pageTablesPmdKB == smapsPmdKB }

    enum CodingKeys: String, CodingKey {
        case pageTablesPmdKB = "page_tables_pmd_kb", smapsPmdKB = "smaps_pmd_kb", agree
    }

    public init(pageTablesPmdKB: Int, smapsPmdKB: Int) {
        self.pageTablesPmdKB = pageTablesPmdKB
        self.smapsPmdKB = smapsPmdKB
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pageTablesPmdKB = try c.decode(Int.self, forKey: .pageTablesPmdKB)
        smapsPmdKB = try c.decode(Int.self, forKey: .smapsPmdKB)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pageTablesPmdKB, forKey: .pageTablesPmdKB)
        try c.encode(smapsPmdKB, forKey: .smapsPmdKB)
        try c.encode(agree, forKey: .agree)
    }
}

public struct VmaCoverage: Codable, Equatable, Sendable {
    public var start: UInt
    public var end: UInt
    public var permissions: String
    public var backing: VmaBacking
    /// `anon`, `shmem` or `file`.
    public var kind: VmaKind
    /// 4 KiB pages per class over the whole VMA.
    public var pages: ClassCounts
    /// kB per class (`pmd`, `pte_thp`, `mthp`, `small`, `swapped`, `none`).
    public var kb: [String: Int]
    public var coveragePercent: Double
    /// The VMA's smaps figures in kB, as the kernel printed them.
    public var smaps: [String: Int]
    public var vmFlags: [String]
    /// smaps' `THPeligible`, when the kernel prints it.
    public var thpEligible: Bool?
    public var crosscheck: CrossCheck
    /// Extents with at least one present or swapped page.
    public var extents: [ExtentCoverage]
    /// numa_maps: policy and pages per node (read on multi-node hosts).
    public var numa: NumaMapsEntry? = nil

    enum CodingKeys: String, CodingKey {
        case start, end, permissions, backing, kind, pages, kb, coveragePercent = "coverage_percent", smaps
        case vmFlags = "vm_flags", thpEligible = "thp_eligible", crosscheck, extents, numa
    }
}

public struct ProcessCoverage: Codable, Equatable, Sendable {
    public var pid: Int32
    public var comm: String
    public var vmas: [VmaCoverage]
    public var totals: ClassCounts
    public var totalsKB: [String: Int]
    public var coveragePercent: Double
    /// Whether pagemap showed PFNs (CAP_SYS_ADMIN): without them PTE-mapped
    /// THPs and mTHPs cannot be told from small pages.
    public var pfnsVisible: Bool
    /// `pagemap_scan` (the PAGEMAP_SCAN ioctl tells PMD mappings) or
    /// `pagemap` (PMD mappings inferred from smaps).
    public var method: String
    /// False when the process exited or became unreadable mid-snapshot.
    public var complete: Bool
    public var notes: [String]
    /// The process's cgroup (memory controller's hierarchy), when the
    /// snapshot was of a target wider than one process.
    public var cgroup: String? = nil

    enum CodingKeys: String, CodingKey {
        case pid, comm, vmas, totals, totalsKB = "totals_kb", coveragePercent = "coverage_percent"
        case pfnsVisible = "pfns_visible", method, complete, notes, cgroup
    }
}

/// `thplab snapshot`: processes and/or the system at one moment.
public struct SnapshotResult: Codable, Sendable {
    public var kernelRelease: String
    /// Seconds since the epoch.
    public var takenAt: Double
    public var processes: [ProcessCoverage]
    public var system: SystemCounters?
    /// Per node: memory and huge-page lines (with --system, or on a
    /// multi-node host).
    public var numa: NumaTopology? = nil
    public var notes: [String]
    /// Per-cgroup and whole-target totals (targets of several processes).
    public var rollup: TargetRollup? = nil
    /// Objects mapped by more than one process of the target (`--objects`).
    public var objects: [MappedObject]? = nil

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", takenAt = "taken_at"
        case processes, system, numa, notes, rollup, objects
    }
}

/// What a VMA maps, as thplab tells them apart.
public enum VmaKind: String, Codable, Sendable, CustomStringConvertible {
    /// Private anonymous memory (inode 0).
    case anon
    /// memfd, SysV shared memory, /dev/shm, shared anonymous memory.
    case shmem
    /// A regular file (or tmpfs file outside /dev/shm).
    case file
    public var description: String { rawValue }
}
