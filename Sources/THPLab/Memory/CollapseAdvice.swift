import SystemPackage

/// The two calls every collapse starts from, whatever asks for it (the
/// region, retract and mthp experiments, in thplab or in a worker).
extension MappedRegion {
    /// MADV_COLLAPSE on [offset, offset + length): how long it took, and
    /// its errno when it failed. EAGAIN is the kernel's "transient, try
    /// again" (a page or PMD lock it could not take, e.g. installing the
    /// PMD after collapse_file() made the folio): the call is made again,
    /// at most `CollapseCall.maxRetries` times, and the retries are counted.
    func collapse(offset: Int = 0, length: Int? = nil) -> CollapseCall {
        let t0 = Sys.monotonicNanoseconds()
        var retries = 0
        while true {
            let result = Sys.result { try madvise(.collapse, offset: offset, length: length) }
            if case .failure(let e) = result, e == .resourceTemporarilyUnavailable, retries < CollapseCall.maxRetries {
                retries += 1
                Sys.sleep(milliseconds: 10)
                continue
            }
            let ms = Double(Sys.monotonicNanoseconds() - t0) / 1e6
            if case .failure(let e) = result { return CollapseCall(milliseconds: ms, errno: e, eagainRetries: retries) }
            return CollapseCall(milliseconds: ms, errno: nil, eagainRetries: retries)
        }
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

/// One MADV_COLLAPSE, with its EAGAIN retries.
struct CollapseCall {
    static let maxRetries = 3
    /// From the first call to the last.
    var milliseconds: Double
    var errno: Errno?
    /// Calls that returned EAGAIN before the last one.
    var eagainRetries: Int
    var errnoName: String? { errno.map(ErrnoName.of) }
    /// A note for the result when the call was made more than once.
    var retryNote: String? {
        eagainRetries == 0 ? nil : "MADV_COLLAPSE returned EAGAIN (transient) \(eagainRetries) time(s) and was made again; the last call " + (errnoName.map { "failed with \($0)" } ?? "succeeded")
    }
}
