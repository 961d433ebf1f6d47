/// One scanner's working memory for a chunk of at most 16384 pages: the
/// pagemap entries and kpageflags read for it, each page's class, anon
/// bit and folio size as they are decided, and the extents known to be
/// mapped by a PMD as a whole (their pages are not written one by one).
/// A page's anon bit is read only where its class is present, and its
/// folio size only where it is mTHP. Allocated once per scanner and
/// reused chunk after chunk, so a scan allocates (and faults in) nothing
/// per chunk; a scanner is used by one thread at a time.
final class ChunkPages {
    let capacity: Int
    let entries: UnsafeMutableBufferPointer<UInt64>
    let flags: UnsafeMutableBufferPointer<UInt64>
    let classes: UnsafeMutableBufferPointer<PageClass>
    let anon: UnsafeMutableBufferPointer<Bool>
    let folio: UnsafeMutableBufferPointer<Int32>
    /// By extent ordinal within the chunk (a chunk touches at most
    /// capacity / 512 + 1 extents).
    let marks: UnsafeMutableBufferPointer<ExtentFolder.ExtentMark>
    /// kpageflags words of one coalesced read of scattered PFNs.
    private var window: UnsafeMutableBufferPointer<UInt64>?

    /// The widest kpageflags read of scattered PFNs, in words.
    static let windowWords = 65536

    init(capacity: Int) {
        self.capacity = capacity
        entries = .allocate(capacity: capacity)
        flags = .allocate(capacity: capacity)
        classes = .allocate(capacity: capacity)
        anon = .allocate(capacity: capacity)
        folio = .allocate(capacity: capacity)
        marks = .allocate(capacity: capacity / PageGeometry.pagesPerPmd + 2)
    }

    deinit {
        entries.deallocate()
        flags.deallocate()
        classes.deallocate()
        anon.deallocate()
        folio.deallocate()
        marks.deallocate()
        window?.deallocate()
    }

    /// The window, allocated on first use.
    func readWindow() -> UnsafeMutableBufferPointer<UInt64> {
        if let window { return window }
        let w = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: Self.windowWords)
        window = w
        return w
    }

    /// The first `n` pages set to not present, and the extents they touch
    /// to be counted page by page; nothing read yet.
    func reset(_ n: Int, extents: Int) {
        precondition(n <= capacity && extents <= marks.count)
        slice(classes, 0, n).initialize(repeating: .none)
        slice(marks, 0, extents).initialize(repeating: .perPage)
    }

    /// Pages `i0..<i1` of a buffer.
    func slice<T>(_ b: UnsafeMutableBufferPointer<T>, _ i0: Int, _ i1: Int) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(rebasing: b[i0..<i1])
    }
}
