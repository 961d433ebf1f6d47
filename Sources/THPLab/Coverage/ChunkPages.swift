/// One scanner's working memory for a chunk of at most 16384 pages: the
/// pagemap entries and kpageflags read for it, and each page's class, anon
/// bit and folio size as they are decided. Allocated once per scanner and
/// reused chunk after chunk, so a scan allocates (and faults in) nothing
/// per chunk; a scanner is used by one thread at a time.
final class ChunkPages {
    let capacity: Int
    let entries: UnsafeMutableBufferPointer<UInt64>
    let flags: UnsafeMutableBufferPointer<UInt64>
    let classes: UnsafeMutableBufferPointer<PageClass>
    let anon: UnsafeMutableBufferPointer<Bool>
    let folio: UnsafeMutableBufferPointer<Int32>
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
    }

    deinit {
        entries.deallocate()
        flags.deallocate()
        classes.deallocate()
        anon.deallocate()
        folio.deallocate()
        window?.deallocate()
    }

    /// The window, allocated on first use.
    func readWindow() -> UnsafeMutableBufferPointer<UInt64> {
        if let window { return window }
        let w = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: Self.windowWords)
        window = w
        return w
    }

    /// The first `n` pages set to not present, nothing read yet.
    func reset(_ n: Int) {
        precondition(n <= capacity)
        slice(classes, 0, n).initialize(repeating: .none)
        slice(anon, 0, n).initialize(repeating: false)
        slice(folio, 0, n).initialize(repeating: 0)
    }

    /// Pages `i0..<i1` of a buffer.
    func slice<T>(_ b: UnsafeMutableBufferPointer<T>, _ i0: Int, _ i1: Int) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(rebasing: b[i0..<i1])
    }
}
