/// Pages per NUMA node, extent by extent, from the PFNs pagemap shows
/// (CAP_SYS_ADMIN) and the node that holds each PFN's memory block.
public enum NodeCounter {
    /// For each 2 MiB extent of `[start, start + extents * 2 MiB)` of `pid`:
    /// node -> present pages. Empty dictionaries when PFNs are hidden.
    public static func perExtent(pid: Int32, start: UInt, extents: Int, map: PfnNodeMap) -> [[Int: Int]] {
        let pages = MappedRegion.hugeSize / Sys.pageSize
        guard let words = try? Pagemap.entries(pid: pid, start: start, end: start + UInt(extents * MappedRegion.hugeSize)) else {
            return Array(repeating: [:], count: extents)
        }
        var out = Array(repeating: [Int: Int](), count: extents)
        for (i, w) in words.enumerated() where w & Pagemap.present != 0 {
            let pfn = w & Pagemap.pfnMask
            guard pfn != 0, let node = map.node(ofPFN: pfn) else { continue }
            out[i / pages][node, default: 0] += 1
        }
        return out
    }

    /// Node -> present pages of `[start, end)` of `pid`.
    public static func count(pid: Int32, start: UInt, end: UInt, map: PfnNodeMap) -> [Int: Int] {
        guard let words = try? Pagemap.entries(pid: pid, start: start, end: end) else { return [:] }
        var out: [Int: Int] = [:]
        for w in words where w & Pagemap.present != 0 {
            let pfn = w & Pagemap.pfnMask
            if pfn != 0, let node = map.node(ofPFN: pfn) { out[node, default: 0] += 1 }
        }
        return out
    }

    /// Sums per-extent counts.
    public static func total(_ perExtent: [[Int: Int]]) -> [Int: Int] {
        perExtent.reduce(into: [:]) { acc, e in for (n, c) in e { acc[n, default: 0] += c } }
    }

    /// Node numbers as JSON keys.
    public static func keyed(_ counts: [Int: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: counts.map { (String($0.key), $0.value) })
    }
}
