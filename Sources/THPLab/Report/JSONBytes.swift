import Glibc

/// The bytes of a JSON text as it is written: each piece is copied through
/// a raw pointer into a small staging block, and the block is moved into
/// the array when full. Appending to the array itself checks its
/// uniqueness and capacity at every call, which was most of the writer's
/// time on a dense snapshot (1.7 MB in pieces of a few bytes).
struct JSONBytes: ~Copyable {
    private var bytes: [UInt8] = []
    private let stage: UnsafeMutablePointer<UInt8>
    private var used = 0
    private static let stageSize = 1 << 16

    /// `reserving`: address space for the whole text; malloc maps a buffer
    /// this large and its pages are faulted in as written, so a small text
    /// costs nothing more and a large one is not copied at every doubling.
    init(reserving: Int) {
        bytes.reserveCapacity(reserving)
        stage = .allocate(capacity: Self.stageSize)
    }

    deinit { stage.deallocate() }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if used == Self.stageSize { flush() }
        stage[used] = byte
        used += 1
    }

    @inline(__always)
    mutating func append(contentsOf piece: UnsafeRawBufferPointer) {
        guard let base = piece.baseAddress else { return }
        let n = piece.count
        if n > Self.stageSize - used {
            flush()
            if n > Self.stageSize {
                bytes.append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: n))
                return
            }
        }
        // Most pieces are a few bytes: a loop, not a call to memcpy.
        if n <= 32 {
            let from = base.assumingMemoryBound(to: UInt8.self)
            for i in 0..<n { stage[used + i] = from[i] }
        } else {
            memcpy(stage + used, base, n)
        }
        used += n
    }

    /// Room for `n` more bytes (at most the stage's size) written straight
    /// at the returned pointer; `commit(_:)` then counts them.
    @inline(__always)
    mutating func room(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if n > Self.stageSize - used { flush() }
        return stage + used
    }

    @inline(__always)
    mutating func commit(_ n: Int) { used += n }

    @inline(__always)
    mutating func append(contentsOf piece: UnsafeBufferPointer<UInt8>) {
        append(contentsOf: UnsafeRawBufferPointer(piece))
    }

    @inline(__always)
    mutating func append(_ s: StaticString) {
        append(contentsOf: UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private mutating func flush() {
        bytes.append(contentsOf: UnsafeBufferPointer(start: stage, count: used))
        used = 0
    }

    /// The whole text.
    consuming func finish() -> [UInt8] {
        flush()
        return bytes
    }
}
