/// Pages per NUMA node, extent by extent, from the PFNs pagemap shows
/// (CAP_SYS_ADMIN) and the node that holds each PFN's memory block.
public enum NodeCounter {
    /// For each 2 MiB extent of `[start, start + extents * 2 MiB)` of `pid`:
    /// node -> present pages. Empty dictionaries when PFNs are hidden.
    public static func perExtent(pid: Int32, start: UInt, extents: Int, map: PfnNodeMap) -> [[Int: Int]] {
        let pages = PageGeometry.pmdSize / Sys.pageSize
        var out = Array(repeating: [Int: Int](), count: extents)
        Pagemap.forEachPresentPFN(pid: pid, start: start, end: start + UInt(extents * PageGeometry.pmdSize)) { i, pfn in
            if let node = map.node(ofPFN: pfn) { out[i / pages][node, default: 0] += 1 }
        }
        return out
    }

    /// Node -> present pages of `[start, end)` of `pid`.
    public static func count(pid: Int32, start: UInt, end: UInt, map: PfnNodeMap) -> [Int: Int] {
        var out: [Int: Int] = [:]
        Pagemap.forEachPresentPFN(pid: pid, start: start, end: end) { _, pfn in
            if let node = map.node(ofPFN: pfn) { out[node, default: 0] += 1 }
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
