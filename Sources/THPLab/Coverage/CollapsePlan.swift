/// Why `thplab collapse` does not send an extent to the kernel.
public enum CollapseSkip: String, Codable, CaseIterable, Sendable {
    case alreadyPmd = "already_pmd_mapped"
    case notResident = "not_resident"
    case misaligned
    case noHugepage = "madv_nohugepage"
    case copyOnWrite = "copy_on_write"
    case processDisabled = "thp_disabled_for_process"
    case regularFile = "regular_file"
    case hugetlbOrSpecial = "not_thp_memory"

    public var text: String {
        switch self {
        case .alreadyPmd: return "already PMD-mapped"
        case .notResident: return "not resident (nothing mapped, nor in a shmem object's page cache: MADV_COLLAPSE says EINVAL there)"
        case .misaligned: return "VMA address not congruent to its file offset modulo 2 MiB: MADV_COLLAPSE refuses it (EINVAL)"
        case .noHugepage: return "MADV_NOHUGEPAGE on the VMA: MADV_COLLAPSE refuses it (EINVAL)"
        case .copyOnWrite: return "copy-on-write pages in a private file mapping: collapse_pte_mapped_thp() refuses the extent"
        case .processDisabled: return "THP disabled for the process (THP_enabled 0)"
        case .regularFile: return "regular file and no CONFIG_READ_ONLY_THP_FOR_FS: MADV_COLLAPSE refuses it (EINVAL)"
        case .hugetlbOrSpecial: return "not THP memory (hugetlb or a special mapping)"
        }
    }
}

/// One extent of the plan: attempted, or skipped with the reason.
public struct PlannedExtent: Codable, Equatable, Sendable {
    public var pid: Int32
    public var start: UInt
    public var end: UInt
    public var skip: CollapseSkip?
    public var residentPages: Int
}

/// Decides, from a before-snapshot alone, which extents MADV_COLLAPSE can
/// succeed on. Pure: the kernel is not touched.
public enum CollapsePlanner {
    public struct Facts {
        public var readOnlyThpForFS: Bool?
        public var thpEnabled: Bool?
        /// Pages of a shmem VMA's extent in the object's page cache (mapped
        /// here or not): MADV_COLLAPSE collapses from the page cache, so
        /// an extent this process never touched can still collapse.
        public var pageCachePages: (VmaCoverage, UInt) -> Int?
        public init(readOnlyThpForFS: Bool?, thpEnabled: Bool?, pageCachePages: @escaping (VmaCoverage, UInt) -> Int? = { _, _ in nil }) {
            self.readOnlyThpForFS = readOnlyThpForFS
            self.thpEnabled = thpEnabled
            self.pageCachePages = pageCachePages
        }
    }

    static let size = UInt(PageGeometry.pmdSize)

    /// Every whole 2 MiB extent of the process's VMAs inside `[start, end)`.
    public static func plan(_ p: ProcessCoverage, start: UInt = 0, end: UInt = .max, _ facts: Facts) -> [PlannedExtent] {
        var out: [PlannedExtent] = []
        for v in p.vmas where v.end > start && v.start < end {
            let vmaSkip = skip(v, facts)
            let byStart = Dictionary(v.extents.map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a })
            var a = max((v.start + size - 1) & ~(size - 1), (start + size - 1) & ~(size - 1))
            while a + size <= min(v.end, end) {
                let e = byStart[a]
                var resident = e?.pages.resident ?? 0
                var why = vmaSkip
                if why == nil {
                    if resident == 0 && v.kind == .shmem { resident = facts.pageCachePages(v, a) ?? 0 }
                    let pages = e?.pages ?? ClassCounts()
                    if resident == 0 { why = .notResident }
                    else if pages.pmd == PageGeometry.pagesPerPmd { why = .alreadyPmd }
                    else if v.kind != .anon && !v.vmFlags.contains("sh") && pages.anon > 0 { why = .copyOnWrite }
                }
                out.append(PlannedExtent(pid: p.pid, start: a, end: a + size, skip: why, residentPages: resident))
                a += size
            }
        }
        return out
    }

    /// What rules a whole VMA out.
    static func skip(_ v: VmaCoverage, _ facts: Facts) -> CollapseSkip? {
        if facts.thpEnabled == false { return .processDisabled }
        if VmaRules.aligned(v) == false { return .misaligned }
        if v.vmFlags.contains("nh") { return .noHugepage }
        if v.kind == .file && facts.readOnlyThpForFS != true { return .regularFile }
        if v.vmFlags.contains("pf") || v.vmFlags.contains("io") || v.vmFlags.contains("ht") { return .hugetlbOrSpecial }
        return nil
    }

    /// Adjacent planned extents of one process as one span.
    public static func spans(_ todo: [PlannedExtent]) -> [PlanSpan] {
        var out: [PlanSpan] = []
        for x in todo {
            if var last = out.last, last.pid == x.pid, last.end == x.start {
                last.end = x.end
                last.extents += 1
                last.residentKB += x.residentPages * PageGeometry.pageKB
                out[out.count - 1] = last
            } else {
                out.append(PlanSpan(pid: x.pid, start: x.start, end: x.end, extents: 1, residentKB: x.residentPages * PageGeometry.pageKB))
            }
        }
        return out
    }

    /// One line per reason: how many extents and their resident kB.
    public static func skipped(_ plan: [PlannedExtent]) -> [SkipGroup] {
        let groups = Dictionary(grouping: plan.filter { $0.skip != nil }, by: { $0.skip! })
        return CollapseSkip.allCases.compactMap { k in
            groups[k].map { SkipGroup(reason: k, text: k.text, extents: $0.count, residentKB: $0.reduce(0) { $0 + $1.residentPages * PageGeometry.pageKB }) }
        }
    }
}

public struct SkipGroup: Codable, Equatable, Sendable {
    public var reason: CollapseSkip
    public var text: String
    public var extents: Int
    public var residentKB: Int

    enum CodingKeys: String, CodingKey { case reason, text, extents, residentKB = "resident_kb" }
}

/// A run of adjacent extents of one process that the plan attempts.
public struct PlanSpan: Codable, Equatable, Sendable {
    public var pid: Int32
    public var start: UInt
    public var end: UInt
    public var extents: Int
    public var residentKB: Int

    enum CodingKeys: String, CodingKey { case pid, start, end, extents, residentKB = "resident_kb" }
}
