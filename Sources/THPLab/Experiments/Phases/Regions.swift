/// The regions an experiment watches: one object mapped in one process
/// each, `extents` PMD-sized extents from `start`. Extent `g` of the set is
/// extent `g % extents` of region `g / extents`, and its events are those of
/// object `g / extents` (`ExtentRef`).
struct RegionSet {
    struct Region {
        var pid: Int32
        var start: UInt
        /// The name the object's events print (nil: anonymous memory).
        var traceName: String?
    }

    let regions: [Region]
    let extentsEach: Int

    var count: Int { regions.count * extentsEach }
    var pids: [Int32] { regions.map(\.pid) }
    var bytesEach: Int { extentsEach * PageGeometry.pmdSize }

    func start(_ g: Int) -> UInt { regions[g / extentsEach].start + UInt((g % extentsEach) * PageGeometry.pmdSize) }
    func pid(_ g: Int) -> Int32 { regions[g / extentsEach].pid }
    func ref(_ g: Int) -> ExtentRef { ExtentRef(object: g / extentsEach, extent: g % extentsEach) }

    /// What events are attributed to: one object per region, and its mapping.
    var subject: TraceSubject {
        TraceSubject(objects: regions.map { .init(traceName: $0.traceName, owner: $0.pid, extents: extentsEach) },
                     mappings: regions.enumerated().map { i, r in
                         .init(pid: r.pid, object: i, start: r.start, end: r.start + UInt(bytesEach), offset: 0) })
    }
}

/// How a collapsed extent looks from a mapping of it.
enum CollapseSignal {
    /// File and shmem: collapse_file() unmapped the small pages from every
    /// mapping, so nothing of the extent is resident until the next fault.
    case pagesUnmapped
    /// Anonymous: the extent is one PMD-sized folio now (PMD-mapped; without
    /// PAGEMAP_SCAN pagemap cannot say how it is mapped).
    case hugeFolio

    init(backing: Backing) { self = backing == .anon ? .hugeFolio : .pagesUnmapped }

    func collapsed(_ c: ClassCounts) -> Bool {
        switch self {
        case .pagesUnmapped: return c.resident == 0
        case .hugeFolio: return c.pmd + c.pteThp == PageGeometry.pagesPerPmd
        }
    }
}

/// Reads the page classes of any extent of a region set, one scanner per process.
struct ExtentReader {
    let regions: RegionSet
    private let scanners: [Int32: VmaScanner]

    init(_ regions: RegionSet) throws {
        self.regions = regions
        var s: [Int32: VmaScanner] = [:]
        for pid in regions.pids where s[pid] == nil { s[pid] = try VmaScanner(pid: pid, withPages: false) }
        scanners = s
    }

    func counts(_ g: Int) throws -> ClassCounts {
        let s = regions.start(g)
        return try scanners[regions.pid(g)]!.scan(start: s, end: s + UInt(PageGeometry.pmdSize)).counts
    }

    /// Whether every extent is still on small pages (or not resident).
    func allSmall() throws -> Bool {
        try (0..<regions.count).allSatisfy { let c = try counts($0); return c.pmd + c.pteThp + c.mthp == 0 }
    }

    /// Each extent's classes at the end, by start address. Without
    /// PAGEMAP_SCAN, an extent that is one aligned huge folio is PMD- or
    /// PTE-mapped as smaps says.
    func finalClasses() throws -> [UInt: ClassCounts] {
        var after: [UInt: ClassCounts] = [:]
        for r in regions.regions {
            let end = r.start + UInt(regions.bytesEach)
            let scanner = scanners[r.pid]!
            var outcome = try scanner.scan(start: r.start, end: end)
            if !scanner.useScan {
                let smapsPmd = ProcFS.host.smaps(r.pid, overlapping: r.start, end).reduce(0) { $0 + $1.pmdMappedKB }
                _ = SnapshotTaker.resolveCandidates(&outcome, smapsPmdKB: smapsPmd)
            }
            for e in outcome.extents { after[e.start] = e.pages }
        }
        return after
    }
}
