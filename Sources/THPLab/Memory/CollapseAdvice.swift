import SystemPackage

/// The two calls every collapse starts from, whatever asks for it (the
/// region, retract and mthp experiments, in thplab or in a worker).
extension MappedRegion {
    /// MADV_COLLAPSE on [offset, offset + length): how long the call took,
    /// and its errno when it failed.
    func collapse(offset: Int = 0, length: Int? = nil) -> CollapseCall {
        let t0 = Sys.monotonicNanoseconds()
        let result = Sys.result { try madvise(.collapse, offset: offset, length: length) }
        let ms = Double(Sys.monotonicNanoseconds() - t0) / 1e6
        if case .failure(let e) = result { return CollapseCall(milliseconds: ms, errno: e) }
        return CollapseCall(milliseconds: ms, errno: nil)
    }

    /// MADV_HUGEPAGE `times` times over the whole region. Under shmem
    /// advise the first call only sets VM_HUGEPAGE: khugepaged_enter_vma()
    /// checks eligibility with the flags from before it, so it takes the
    /// second to put the process on khugepaged's list.
    func adviseHugepage(times: Int = 2) -> Result<Void, Errno> {
        for _ in 0..<max(1, times) {
            if case .failure(let e) = Sys.result({ try madvise(.hugepage) }) { return .failure(e) }
        }
        return .success(())
    }
}

/// One MADV_COLLAPSE call.
struct CollapseCall {
    var milliseconds: Double
    var errno: Errno?
    var errnoName: String? { errno.map(ErrnoName.of) }
}
