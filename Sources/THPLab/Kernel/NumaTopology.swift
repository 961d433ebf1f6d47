/// The machine's NUMA nodes from sysfs (`/sys/devices/system/node`): each
/// online node's memory, its huge-page lines, its distances and CPUs; and
/// which node a PFN is on, from the memory blocks each node holds.
public struct NumaNode: Codable, Equatable, Sendable {
    public var node: Int
    public var memTotalKB: Int
    public var memFreeKB: Int
    /// AnonHugePages, ShmemHugePages, ShmemPmdMapped, FileHugePages,
    /// FilePmdMapped, in kB.
    public var hugeKB: [String: Int]
    /// Distance to every online node, in `nodes` order.
    public var distances: [Int]
    public var cpus: String

    enum CodingKeys: String, CodingKey {
        case node, memTotalKB = "mem_total_kb", memFreeKB = "mem_free_kb", hugeKB = "huge_kb", distances, cpus
    }
}

public struct NumaTopology: Codable, Equatable, Sendable {
    public var nodes: [NumaNode]

    public static let hugeLines = ["AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped"]

    public static func read(root: String = "/sys/devices/system/node") -> NumaTopology {
        let online = parseList(FileIO.readIfPresent(root + "/online") ?? "0")
        return NumaTopology(nodes: online.map { n in
            let dir = root + "/node\(n)"
            let mem = parseMeminfo(FileIO.readIfPresent(dir + "/meminfo") ?? "")
            return NumaNode(node: n, memTotalKB: mem["MemTotal"] ?? 0, memFreeKB: mem["MemFree"] ?? 0,
                            hugeKB: mem.filter { hugeLines.contains($0.key) },
                            distances: (FileIO.readIfPresent(dir + "/distance") ?? "").split(separator: " ").compactMap { Int($0.trimmingWhitespace()) },
                            cpus: FileIO.readIfPresent(dir + "/cpulist")?.trimmingWhitespace() ?? "")
        })
    }

    public func node(_ n: Int) -> NumaNode? { nodes.first { $0.node == n } }

    /// `Node 0 MemTotal:  20539608 kB` lines, without the node prefix.
    static func parseMeminfo(_ text: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 4, words[0] == "Node", let colon = words[2].lastIndex(of: ":") else { continue }
            out[String(words[2][..<colon])] = Int(words[3])
        }
        return out
    }

    /// A sysfs list: `0-2,4` -> [0, 1, 2, 4]; nil for something else.
    public static func parseList(_ text: String) -> [Int] {
        parseListStrict(text) ?? []
    }

    /// No node or CPU number reaches this (MAX_NUMNODES is at most 1024,
    /// NR_CPUS 8192 on x86-64): a list beyond it is refused, not expanded
    /// (`0-44444444` from the fuzzer took seconds and gigabytes).
    static let listBound = 1 << 16

    public static func parseListStrict(_ text: String) -> [Int]? {
        var out: [Int] = []
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty { return [] }
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard let lo = Int(ends[0]), lo >= 0, lo < listBound else { return nil }
            if ends.count == 1 { out.append(lo) }
            else if ends.count == 2, let hi = Int(ends[1]), hi >= lo, hi < listBound, out.count + (hi - lo) < listBound { out += Array(lo...hi) }
            else { return nil }
        }
        return out
    }
}

/// Which node a page frame is on: each node's sysfs directory lists the
/// memory blocks (`memoryM`) it holds, and a block covers
/// `block_size_bytes` of physical memory.
public struct PfnNodeMap: Sendable {
    let blockPages: UInt64
    let nodeOfBlock: [UInt64: Int]
    public let single: Int?

    public static func read(nodes: [Int], root: String = "/sys/devices/system") -> PfnNodeMap {
        let size = UInt64((FileIO.readIfPresent(root + "/memory/block_size_bytes") ?? "").trimmingWhitespace(), radix: 16) ?? (128 << 20)
        var map: [UInt64: Int] = [:]
        if nodes.count > 1 {
            for n in nodes {
                for name in (try? Sys.listDirectory(root + "/node/node\(n)")) ?? [] where name.hasPrefix("memory") {
                    if let block = UInt64(name.dropFirst(6)) { map[block] = n }
                }
            }
        }
        return PfnNodeMap(blockPages: max(1, size / 4096), nodeOfBlock: map, single: nodes.count == 1 ? nodes[0] : nil)
    }

    public func node(ofPFN pfn: UInt64) -> Int? {
        if let single { return single }
        return nodeOfBlock[pfn / blockPages]
    }
}
