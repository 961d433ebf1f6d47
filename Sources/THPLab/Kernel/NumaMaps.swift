/// `/proc/PID/numa_maps`: per VMA (by start address) its memory policy,
/// pages per node (`N<node>=`) and the page size the kernel counted in.
public struct NumaMapsEntry: Codable, Equatable, Sendable {
    public var policy: String
    /// Node -> pages of `kernelPageSizeKB`.
    public var pagesPerNode: [Int: Int]
    public var kernelPageSizeKB: Int

    enum CodingKeys: String, CodingKey { case policy, pagesPerNode = "pages_per_node", kernelPageSizeKB = "kernelpagesize_kb" }

    /// kB per node.
    public var kbPerNode: [Int: Int] { pagesPerNode.mapValues { $0 * kernelPageSizeKB } }
}

public enum NumaMaps {
    public static func parse(_ text: String) -> [UInt: NumaMapsEntry] {
        var out: [UInt: NumaMapsEntry] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2, let start = UInt(words[0], radix: 16) else { continue }
            var e = NumaMapsEntry(policy: String(words[1]), pagesPerNode: [:], kernelPageSizeKB: 4)
            for w in words.dropFirst(2) {
                if w.hasPrefix("N"), let eq = w.firstIndex(of: "="), let node = Int(w[w.index(after: w.startIndex)..<eq]),
                   let pages = Int(w[w.index(after: eq)...]) {
                    e.pagesPerNode[node] = pages
                } else if w.hasPrefix("kernelpagesize_kB="), let kb = Int(w.dropFirst(18)) {
                    e.kernelPageSizeKB = kb
                }
            }
            out[start] = e
        }
        return out
    }
}
