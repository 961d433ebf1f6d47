import SystemPackage

/// What `watch` samples of a range of a process's address space: how much
/// of it is resident, mapped by PMDs, and swapped out.
public struct Residency: Equatable, Sendable {
    public var residentKB = 0
    public var pmdKB = 0
    public var swappedKB = 0

    public init(residentKB: Int = 0, pmdKB: Int = 0, swappedKB: Int = 0) {
        self.residentKB = residentKB
        self.pmdKB = pmdKB
        self.swappedKB = swappedKB
    }

    public static func += (a: inout Residency, b: Residency) {
        a.residentKB += b.residentKB
        a.pmdKB += b.pmdKB
        a.swappedKB += b.swappedKB
    }

    /// From the ranges a `PagemapScan.resident` walk reported: each one
    /// counted for what it is.
    static func counting(_ regions: [PagemapScan.Region]) -> Residency {
        var r = Residency()
        for region in regions {
            let kb = Int(region.end - region.start) / 1024
            if region.isPresent {
                r.residentKB += kb
                if region.isHuge { r.pmdKB += kb }
            } else if region.isSwapped {
                r.swappedKB += kb
            }
        }
        return r
    }

    /// From the ranges a `PagemapScan.notSmall` walk reported over
    /// [start, end): what it did not report is present small pages, where
    /// the kernel walked. When it reported nothing, `probe` is what an
    /// `everyPage` walk of the first page reported: nothing there either
    /// means the kernel skipped the range (VM_PFNMAP, or no VMA maps it any
    /// more), and none of it is resident.
    static func complementing(_ regions: [PagemapScan.Region], start: UInt64, end: UInt64,
                              probe: [PagemapScan.Region]) -> Residency {
        if regions.isEmpty && probe.isEmpty { return Residency() }
        var r = Residency(residentKB: Int(end - start) / 1024)
        for region in regions {
            let kb = Int(region.end - region.start) / 1024
            if region.isPresent {
                if region.isHuge { r.pmdKB += kb }
            } else {
                r.residentKB -= kb
                if region.isSwapped { r.swappedKB += kb }
            }
        }
        return r
    }
}

extension PagemapScan {
    /// Residency of [start, end), one VMA of the process: by the walk that
    /// reports only what is not a present small page (`notSmall`), unless
    /// `positive`. Silence means present only where the kernel walked: it
    /// skips VM_PFNMAP VMAs ([vvar], device memory) and addresses no VMA
    /// maps (one unmapped since the VMA list was read), so a silent range is
    /// probed (see `Residency.complementing`). The caller checks the VMA
    /// list after the walks for the rest: a positive walk needs neither.
    public static func residency(fd: FileDescriptor, start: UInt64, end: UInt64, positive: Bool = false) throws -> Residency {
        var regions: [Region] = []
        try forEach(fd: fd, start: start, end: end, query: positive ? resident : notSmall) { regions.append($0) }
        if positive { return Residency.counting(regions) }
        var probe: [Region] = []
        if regions.isEmpty {
            try forEach(fd: fd, start: start, end: min(end, start + UInt64(PageGeometry.pageSize)), batch: 1,
                        query: everyPage) { probe.append($0) }
        }
        return Residency.complementing(regions, start: start, end: end, probe: probe)
    }
}
