import SystemPackage

/// One VMA of a `run mthp` step: private anonymous memory, or a memfd or a
/// file on a tmpfs of thplab's of exactly the VMA's size mapped shared; its
/// pages faulted in in order.
final class MthpVma {
    let memory: MthpMemory
    let object: SharedObject?
    let region: MappedRegion
    let advised: Bool
    private(set) var mappedEnd: UInt

    /// - Parameter misaligned: anonymous memory starts 4 kB past a 2 MiB
    ///   boundary; shmem maps file offset 0 at such an address, so no size
    ///   above the base page is congruent to the file offset.
    init(_ memory: MthpMemory, lengthKB: Int, advised: Bool, misaligned: Bool, lab: Lab, tag: String,
         tmpfsHuge: TmpfsHuge = .never) throws {
        self.memory = memory
        self.advised = advised
        let length = lengthKB * 1024, shift = misaligned ? PageGeometry.pageSize : 0
        switch memory {
        case .anon:
            object = nil
            region = try MappedRegion(anonymousLength: length, misalignBy: shift)
        case .shmem, .tmpfs:
            let obj = try SharedObject(backing: memory == .shmem ? .memfd : .tmpfs, size: length, tmpfsHuge: tmpfsHuge, tmpfsSize: nil,
                                       directory: "/var/tmp", guardian: lab.guardian, suffix: "-mthp-\(tag)")
            object = obj
            region = try MappedRegion(fd: obj.fd, length: length, fileOffset: 0, shared: true, misalignBy: shift)
        }
        mappedEnd = region.end
        if advised {
            do { try region.madvise(.hugepage) } catch { throw THPLabError.system("MADV_HUGEPAGE on the \(tag) VMA failed", error) }
        }
    }

    var start: UInt { region.start }
    var fileOffset: UInt? { memory == .anon ? nil : 0 }

    /// Write-faults every page, lowest address first, with non-zero data:
    /// zero-filled pages would be mapped to the zero page when a swap-out
    /// splits their folio, and never reach swap. A shmem object that cannot
    /// be filled (memory short) raises SIGBUS, so its pages are first
    /// allocated with MADV_POPULATE_WRITE, in the same order.
    func populate() throws {
        if case .failure(let e) = Sys.result({ try region.madvise(.populateWrite) }) {
            throw THPLabError(.usage, "faulting in \(region.length >> 10) kB of \(memory.rawValue) memory failed: memory is short", errno: e)
        }
        region.writeEveryPage()
    }

    /// Like `populate`, but with the last page read-only meanwhile, so the
    /// rest is a VMA of its own smaller than a PMD: it faults in as mTHPs
    /// (or base pages) whatever the PMD size's policy. The last page is
    /// written after the VMA is whole again.
    func populateWithoutPMD() throws {
        let page = PageGeometry.pageSize, rest = region.length - page
        do {
            try region.protect(offset: rest, length: page, writable: false)
            try region.madvise(.populateWrite, offset: 0, length: rest)
            region.writePages(offset: 0, length: rest)
            try region.protect(offset: rest, length: page, writable: true)
        } catch {
            throw THPLabError(.usage, "faulting in \(region.length >> 10) kB of \(memory.rawValue) memory with its last page read-only failed", errno: error)
        }
        region.writePages(offset: rest, length: page)
    }

    /// The classes of the VMA's pages now.
    func classes() throws -> ClassCounts {
        try VmaScanner(pid: Sys.pid, withPages: false).scan(start: region.start, end: mappedEnd).counts
    }

    /// Unmaps the last `bytes` of the VMA.
    func unmapTail(_ bytes: Int) {
        Sys.munmap(address: mappedEnd - UInt(bytes), length: bytes)
        mappedEnd -= UInt(bytes)
    }
}
