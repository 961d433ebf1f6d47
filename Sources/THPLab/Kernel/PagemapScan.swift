import CShims
import SystemPackage

/// The PAGEMAP_SCAN ioctl (6.7+) on /proc/PID/pagemap: ranges of pages
/// sharing categories, in one call per many ranges. Its `PAGE_IS_HUGE` marks
/// pages mapped by a PMD (or hugetlb), which pagemap entries cannot tell.
public enum PagemapScan {
    public static let file = cshims_PAGE_IS_FILE
    public static let present = cshims_PAGE_IS_PRESENT
    public static let swapped = cshims_PAGE_IS_SWAPPED
    public static let pfnZero = cshims_PAGE_IS_PFNZERO
    public static let huge = cshims_PAGE_IS_HUGE

    public struct Region: Equatable, Sendable {
        public var start: UInt64
        public var end: UInt64
        public var categories: UInt64
        public var isHuge: Bool { categories & PagemapScan.huge != 0 }
        public var isPresent: Bool { categories & PagemapScan.present != 0 }
        public var isSwapped: Bool { categories & PagemapScan.swapped != 0 }
        public var isFile: Bool { categories & PagemapScan.file != 0 }
    }

    /// Which pages a walk reports and what it says of them: pages whose
    /// categories, with `inverted` flipped, have any of `anyOf` (every page
    /// where it is 0), with their `returnMask` categories (not flipped).
    public struct Query: Equatable, Sendable {
        public var inverted: UInt64 = 0
        public var anyOf: UInt64
        public var returnMask: UInt64
    }

    /// Present and swapped pages, and which are mapped by a PMD. Not
    /// PAGE_IS_FILE: it makes the kernel look up the page of every PTE.
    public static let resident = Query(anyOf: present | swapped, returnMask: present | swapped | huge)

    /// Everything but present small pages: holes, swapped pages and
    /// PMD-mapped ones. Where small pages are most of a range, the kernel
    /// outputs almost nothing, which halves the walk (3.9 against 7.3 ms
    /// for 8 GiB, half of it 1 M present PTEs, on 6.18). The pages it does
    /// not report are present only where it walked: see `Residency`.
    public static let notSmall = Query(inverted: present, anyOf: present | huge, returnMask: present | swapped | huge)

    /// Every page, present or not: whether the walk visits an address at all.
    public static let everyPage = Query(anyOf: 0, returnMask: present)

    /// Every range of [start, end) that `query` reports, in address order,
    /// streamed to `body`, `batch` per ioctl, holding no more. Throws ENOTTY
    /// (as a THPLabError) where the kernel has no PAGEMAP_SCAN.
    public static func forEach(fd: FileDescriptor, start: UInt64, end: UInt64, batch: Int = 4096,
                               query: Query = resident, _ body: (Region) throws -> Void) throws {
        // n pages hold at most n / 2 + 1 ranges (alternating): most VMAs
        // are small, and a buffer is zeroed for each.
        let pages = (end - start) / UInt64(PageGeometry.pageSize)
        var buffer = [cshims_page_region](repeating: cshims_page_region(), count: Int(min(UInt64(batch), pages / 2 + 1)))
        var cursor = start
        while cursor < end {
            let r = buffer.withUnsafeMutableBufferPointer { b in
                Sys.result { try Sys.pagemapScan(fd, start: cursor, end: end, inverted: query.inverted, anyOf: query.anyOf,
                                returnMask: query.returnMask, into: b) }
            }
            let (count, walkEnd) = try r.mapError { THPLabError.system("PAGEMAP_SCAN failed", $0) }.get()
            let stop = Self.stop(cursor: cursor, walkEnd: walkEnd, end: end)
            for i in 0..<count {
                if let r = Self.cut(Region(start: buffer[i].start, end: buffer[i].end, categories: buffer[i].categories), at: stop) {
                    try body(r)
                }
            }
            if stop >= end { break }
            cursor = stop
        }
    }

    /// Where a call that began at `cursor` stopped: the walk stops early
    /// when its buffer is full, at the `walkEnd` it returns.
    static func stop(cursor: UInt64, walkEnd: UInt64, end: UInt64) -> UInt64 {
        walkEnd > cursor && walkEnd < end ? walkEnd : end
    }

    /// A range a call reported, as far as it stands: a range may run past
    /// where the walk stopped (6.18: a hole merged after the stop), and the
    /// next call, from there, reports that part again.
    static func cut(_ r: Region, at stop: UInt64) -> Region? {
        guard r.start < stop else { return nil }
        return Region(start: r.start, end: min(r.end, stop), categories: r.categories)
    }

    /// Whether this kernel answers PAGEMAP_SCAN on `fd` (an empty scan).
    public static func isAvailable(fd: FileDescriptor) -> Bool {
        var one = [cshims_page_region](repeating: cshims_page_region(), count: 1)
        let r = one.withUnsafeMutableBufferPointer { b in
            Sys.result { try Sys.pagemapScan(fd, start: 0, end: 4096, anyOf: present, returnMask: present, into: b) }
        }
        if case .success = r { return true }
        return false
    }
}
