import SystemPackage

/// One mapping of a file or memfd, owned by this value: its end unmaps it.
/// Raw pointers never leave this type.
public final class MappedRegion {
    public let start: UInt
    public let length: Int
    public let shared: Bool
    public let fileOffset: Int64



    /// Maps `length` bytes of `fd` at `fileOffset`. With `misalignBy == 0`
    /// the address is congruent to the file offset modulo 2 MiB, so each
    /// 2 MiB extent can be PMD-mapped; otherwise the address is shifted by
    /// `misalignBy` bytes from that, so no extent can.
    /// Reserves `length + 2 MiB` of address space, maps with MAP_FIXED at the
    /// chosen address, and unmaps the slack.
    public init(fd: FileDescriptor, length: Int, fileOffset: Int64, shared: Bool, misalignBy: Int = 0) throws {
        let huge = PageGeometry.pmdSize
        let reserveLength = length + 2 * huge
        let reserve: UInt
        do { reserve = try Sys.mmap(length: reserveLength, writable: false, shared: false, fixed: false, fd: nil, offset: 0) } catch {
            throw THPLabError.system("cannot reserve \(reserveLength) bytes of address space", error)
        }
        let wantedPhase = UInt(fileOffset % Int64(huge))
        var address = (reserve + UInt(huge) - 1) & ~UInt(huge - 1)
        address += wantedPhase + UInt(misalignBy)
        // Unmap the slack on both sides (or the whole reservation on failure).
        do { _ = try Sys.mmap(address: address, length: length, writable: true, shared: shared, fixed: true, fd: fd, offset: fileOffset) } catch {
            Sys.munmap(address: reserve, length: reserveLength)
            throw THPLabError.system("mmap of \(length) bytes at file offset \(fileOffset) failed", error)
        }
        if address > reserve { Sys.munmap(address: reserve, length: Int(address - reserve)) }
        let end = address + UInt(length)
        let reserveEnd = reserve + UInt(reserveLength)
        if reserveEnd > end { Sys.munmap(address: end, length: Int(reserveEnd - end)) }
        self.start = address
        self.length = length
        self.shared = shared
        self.fileOffset = fileOffset
    }

    /// A private anonymous mapping, 2 MiB aligned plus `misalignBy` bytes.
    public init(anonymousLength length: Int, misalignBy: Int = 0) throws {
        let huge = PageGeometry.pmdSize
        let reserve: UInt
        precondition(misalignBy >= 0 && misalignBy < huge, "misalignBy is less than 2 MiB")
        do { reserve = try Sys.mmap(length: length + 2 * huge, writable: true, shared: false, fixed: false, fd: nil, offset: 0) } catch {
            throw THPLabError.system("cannot map \(length) bytes of anonymous memory", error)
        }
        let address = ((reserve + UInt(huge) - 1) & ~UInt(huge - 1)) + UInt(misalignBy)
        if address > reserve { Sys.munmap(address: reserve, length: Int(address - reserve)) }
        let tail = reserve + UInt(length + 2 * huge) - (address + UInt(length))
        if tail > 0 { Sys.munmap(address: address + UInt(length), length: Int(tail)) }
        self.start = address
        self.length = length
        self.shared = false
        self.fileOffset = 0
    }

    deinit { Sys.munmap(address: start, length: length) }

    public var end: UInt { start + UInt(length) }

    public func madvise(_ advice: Advice, offset: Int = 0, length: Int? = nil) throws(Errno) {
        try Sys.madvise(address: start + UInt(offset), length: length ?? self.length - offset, advice)
    }

    /// Writes a non-zero byte to every page, lowest address first: each
    /// page is write-faulted in order, and none is zero-filled (the kernel
    /// maps zero-filled subpages of a split folio to the shared zero page).
    public func writeEveryPage(_ byte: UInt8 = 0x5a) { writePages(offset: 0, length: length, byte) }

    /// Makes part of the region read-only or read-write again: a read-only
    /// tail splits the VMA (so nothing PMD-sized fits before it), and
    /// making it writable again merges the two.
    public func protect(offset: Int, length: Int, writable: Bool) throws(Errno) {
        try Sys.mprotect(address: start + UInt(offset), length: length, writable: writable)
    }

    /// Writes a non-zero byte to the pages of [offset, offset + length).
    public func writePages(offset: Int, length: Int, _ byte: UInt8 = 0x5a) {
        guard let base = UnsafeMutableRawPointer(bitPattern: start) else { return }
        for o in stride(from: offset, to: offset + length, by: Sys.pageSize) { base.storeBytes(of: byte, toByteOffset: o, as: UInt8.self) }
    }

    /// Write-faults the first `pages` pages (MADV_POPULATE_WRITE): in a
    /// private mapping each becomes an anonymous copy-on-write page.
    public func writePages(_ pages: Int) throws(Errno) {
        let n = min(pages, length / Sys.pageSize)
        guard n > 0 else { return }
        try madvise(.populateWrite, length: n * Sys.pageSize)
    }
}
