/// Where a region's pages go, through libnuma's mbind(2), set before the
/// region is populated: `bind` (only that node), `interleave` (round robin
/// over the nodes), `preferred` (that node first, others when it is full).
public enum Placement: Codable, Equatable, Sendable {
    case bind(Int)
    case interleave([Int])
    case preferred(Int)

    public var nodes: [Int] {
        switch self {
        case .bind(let n), .preferred(let n): return [n]
        case .interleave(let ns): return ns
        }
    }

    public var description: String {
        switch self {
        case .bind(let n): return "bound to node \(n)"
        case .interleave(let ns): return "interleaved over nodes \(ns.map(String.init).joined(separator: ","))"
        case .preferred(let n): return "preferring node \(n)"
        }
    }

    /// Refuses, before anything is allocated (exit code 2), a node that is
    /// not online, one without memory, or an empty list.
    public func validate(_ topology: NumaTopology) throws {
        guard !nodes.isEmpty else { throw THPLabError.usage("--interleave needs at least one node, e.g. --interleave 0,1") }
        let online = topology.nodes.map(\.node)
        for n in nodes {
            guard let node = topology.node(n) else {
                throw THPLabError.usage("node \(n) does not exist here: online nodes are \(online.map(String.init).joined(separator: ",")) (thplab doctor lists them)")
            }
            guard node.memTotalKB > 0 else {
                throw THPLabError.usage("node \(n) has no memory (a CPU-only node): pick one of \(topology.nodes.filter { $0.memTotalKB > 0 }.map { String($0.node) }.joined(separator: ","))")
            }
        }
        guard Set(nodes).count == nodes.count else { throw THPLabError.usage("--interleave lists a node twice") }
        guard nodes.allSatisfy({ $0 < 64 }) else { throw THPLabError.usage("thplab places pages on nodes 0 to 63 only") }
    }

    /// Parses `--interleave 0,1` or `0-3`.
    public static func nodeList(_ text: String) throws -> [Int] {
        guard let list = NumaTopology.parseListStrict(text), !list.isEmpty else {
            throw THPLabError.usage("'\(text)' is not a node list: give nodes like 0,1 or 0-3")
        }
        return list
    }

    var policy: Sys.MemoryPolicy {
        switch self {
        case .bind: return .bind
        case .interleave: return .interleave
        case .preferred: return .preferred
        }
    }

    /// Sets the policy of the region's range.
    public func apply(to region: MappedRegion) throws {
        if case .failure(let e) = Sys.result({ try Sys.mbind(address: region.start, length: region.length, policy: policy, nodes: nodes) }) {
            throw THPLabError.system("mbind (\(description)) failed", e)
        }
    }

    /// Whether pages counted per node (after populate) are where asked,
    /// and if not, what happened, in words.
    public func check(pagesPerNode: [Int: Int]) -> String? {
        let total = pagesPerNode.values.reduce(0, +)
        guard total > 0 else { return nil }
        let where_ = pagesPerNode.keys.sorted().map { "node \($0): \(pagesPerNode[$0]!)" }.joined(separator: ", ")
        switch self {
        case .bind(let n), .preferred(let n):
            let on = pagesPerNode[n] ?? 0
            return on == total ? nil : "\(description), but \(total - on) of \(total) pages are elsewhere (\(where_))"
        case .interleave(let ns):
            let missing = ns.filter { (pagesPerNode[$0] ?? 0) == 0 }
            let outside = pagesPerNode.filter { !ns.contains($0.key) }.values.reduce(0, +)
            if missing.isEmpty && outside == 0 { return nil }
            return "\(description), but the pages are on \(where_)"
        }
    }
}

extension Placement {
    enum CodingKeys: String, CodingKey { case policy, nodes }

    /// `{"policy": "bind", "nodes": [1]}`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let nodes = try c.decode([Int].self, forKey: .nodes)
        switch try c.decode(String.self, forKey: .policy) {
        case "bind" where nodes.count == 1: self = .bind(nodes[0])
        case "preferred" where nodes.count == 1: self = .preferred(nodes[0])
        case "interleave": self = .interleave(nodes)
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .policy, in: c, debugDescription: "unknown placement \(other) over \(nodes)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .bind: try c.encode("bind", forKey: .policy)
        case .interleave: try c.encode("interleave", forKey: .policy)
        case .preferred: try c.encode("preferred", forKey: .policy)
        }
        try c.encode(nodes, forKey: .nodes)
    }
}
