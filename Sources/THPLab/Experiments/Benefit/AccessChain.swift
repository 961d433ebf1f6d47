/// The chase's path through the working set: every page once (or every
/// page of a list: the pages a program touched), in a random order fixed
/// by a seed, so every state is chased along the same path.
/// Each page holds the byte offset of the next page's slot; slots sit at
/// different 64-byte lines of their pages, so the chase does not crowd a
/// few cache sets. Offsets, not addresses: two mappings of one object
/// share one chain.
struct AccessChain {
    let pages: Int
    private let order: [Int32]

    init(pages: Int, seed: UInt64 = 0x7468_706c_6162) {
        self.init(pageIndices: Array(0..<pages), seed: seed)
    }

    /// A path through these pages of the region only (indices of 4 kB pages).
    init(pageIndices: [Int], seed: UInt64 = 0x7468_706c_6162) {
        pages = pageIndices.count
        var order = pageIndices.map { Int32($0) }
        var rng = SplitMix(seed)
        for i in stride(from: pages - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        self.order = order
    }

    static func slot(_ page: Int) -> Int { page * PageGeometry.pageSize + (page % 64) * 64 }

    /// The offset the chase starts from.
    var start: UInt64 { UInt64(Self.slot(Int(order[0]))) }

    /// Writes the chain into the region's pages (every page is written).
    func write(into region: MappedRegion) {
        precondition(region.length >= (Int(order.max() ?? 0) + 1) * PageGeometry.pageSize)
        guard let base = UnsafeMutableRawPointer(bitPattern: region.start) else { return }
        for i in 0..<pages {
            let next = Self.slot(Int(order[(i + 1) % pages]))
            base.storeBytes(of: UInt64(next), toByteOffset: Self.slot(Int(order[i])), as: UInt64.self)
        }
    }

    /// Nanoseconds per dependent load, over `steps` loads along the chain
    /// written into `region`.
    func nanosecondsPerLoad(in region: MappedRegion, steps: UInt64) -> Double {
        Double(max(1, Sys.chase(base: region.start, start: start, steps: steps).nanoseconds)) / Double(steps)
    }

    /// Loads for one measurement in `region` of at least `seconds`, and at
    /// least once round the chain (from a probe after a warm-up one).
    func steps(for seconds: Double, in region: MappedRegion) -> UInt64 {
        let probe: UInt64 = 1 << 16
        _ = nanosecondsPerLoad(in: region, steps: probe)
        return max(UInt64(pages), UInt64(seconds * 1e9 / nanosecondsPerLoad(in: region, steps: probe)))
    }

    /// A small, fast generator of good quality (SplitMix64).
    struct SplitMix {
        var state: UInt64
        init(_ seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
