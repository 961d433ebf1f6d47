/// Totals over a group of processes: one cgroup, or the whole target.
/// Shared memory counts in every process that maps it (as Rss does).
public struct RollupLine: Codable, Equatable, Sendable {
    public var name: String
    public var processes: Int
    public var pages: ClassCounts
    public var kb: [String: Int]
    public var coveragePercent: Double

    enum CodingKeys: String, CodingKey { case name, processes, pages, kb, coveragePercent = "coverage_percent" }

    public init(name: String, members: [ProcessCoverage]) {
        self.name = name
        processes = members.count
        pages = members.reduce(into: ClassCounts()) { $0 += $1.totals }
        kb = pages.kb()
        coveragePercent = pages.coveragePercent
    }
}

/// A process of the target that could not be read, and why.
public struct UnreadProcess: Codable, Equatable, Sendable {
    public var pid: Int32
    public var reason: String
}

/// Per-cgroup and whole-target totals of a snapshot of several processes.
public struct TargetRollup: Codable, Equatable, Sendable {
    /// What was asked (`--all`, `--comm postgres`, ...).
    public var targets: [String]
    public var total: RollupLine
    /// By resident memory, largest first.
    public var cgroups: [RollupLine]
    public var unread: [UnreadProcess]

    public init(targets: [String], processes: [ProcessCoverage], unread: [UnreadProcess]) {
        self.targets = targets
        total = RollupLine(name: "total", members: processes)
        let byCgroup = Dictionary(grouping: processes) { $0.cgroup ?? "?" }
        cgroups = byCgroup.map { RollupLine(name: $0.key, members: $0.value) }
            .sorted { ($0.pages.resident, $1.name) > ($1.pages.resident, $0.name) }
        self.unread = unread
    }

    /// One line naming every process that exited or could not be read.
    public var unreadNote: String? {
        guard !unread.isEmpty else { return nil }
        let byReason = Dictionary(grouping: unread, by: \.reason)
        return "\(unread.count) process(es) of the target could not be read: " + byReason.keys.sorted().map { reason in
            let pids = byReason[reason]!.map(\.pid)
            return "\(reason) (\(pids.prefix(8).map(String.init).joined(separator: " "))\(pids.count > 8 ? " +\(pids.count - 8) more" : ""))"
        }.joined(separator: "; ")
    }
}
