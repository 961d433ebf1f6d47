/// Which extent of which object a PFN belongs to, from the pagemap of a
/// mapping that covers the object: how a scan event, which names only a
/// page frame, is tied to an extent. Built before the trigger (the small
/// pages khugepaged scans) and again after it (the huge pages), and merged.
public enum PfnIndex {
    /// Adds the PFNs of `[start, start + extents * 2 MiB)` of `pid`, the
    /// mapping of object `object` from its extent `firstExtent`. Without
    /// CAP_SYS_ADMIN the PFNs read as zero and nothing is added.
    public static func add(pid: Int32, start: UInt, extents: Int, object: Int, firstExtent: Int = 0,
                           into index: inout [UInt64: ExtentRef]) {
        let pages = Int(EventAttribution.extentPages)
        Pagemap.forEachPresentPFN(pid: pid, start: start, end: start + UInt(extents * pages * Sys.pageSize)) { i, pfn in
            index[pfn] = ExtentRef(object: object, extent: firstExtent + i / pages)
        }
    }
}
