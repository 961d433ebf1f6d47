/// One process of an explain target.
public struct ExplainedProcess: Codable, Equatable, Sendable {
    public var pid: Int32
    public var comm: String
    public var cgroup: String?
    /// THP_enabled of /proc/PID/status.
    public var thpEnabled: Bool?
    public var residentKB: Int
    public var pmdKB: Int

    enum CodingKeys: String, CodingKey {
        case pid, comm, cgroup, thpEnabled = "thp_enabled", residentKB = "resident_kb", pmdKB = "pmd_kb"
    }
}

/// The first lines of explain: how much is resident and PMD-mapped.
public struct TriageSummary: Codable, Equatable, Sendable {
    public var processes: Int
    /// Summed over processes: shared memory counts in each that maps it.
    public var residentKB: Int
    public var pmdKB: Int
    public var coveragePercent: Double
    public var heldBackKB: Int

    enum CodingKeys: String, CodingKey {
        case processes, residentKB = "resident_kb", pmdKB = "pmd_kb", coveragePercent = "coverage_percent", heldBackKB = "held_back_kb"
    }
}

/// A VMA named under a blocker.
public struct VmaRef: Codable, Equatable, Sendable {
    public var pid: Int32
    public var start: UInt
    public var end: UInt
    public var name: String
    /// kB this blocker holds back in it.
    public var kb: Int
}

/// One blocker over the whole target, with the memory it holds back.
public struct RankedBlocker: Codable, Equatable, Sendable {
    public var kind: BlockerKind
    public var title: String
    public var kb: Int
    public var vmaCount: Int
    public var processCount: Int
    /// The largest few VMAs.
    public var largest: [VmaRef]
    /// Other blockers the same VMAs have (each must go too).
    public var also: [BlockerKind]
    public var remedy: Remedy

    enum CodingKeys: String, CodingKey {
        case kind, title, kb, vmaCount = "vma_count", processCount = "process_count", largest, also, remedy
    }
}

/// Ranks what holds a target's memory back, from its explained VMAs.
public enum Triage {
    public static let largestShown = 3

    public static func rank(_ vmas: [VmaExplanation], _ ctx: RemedyContext) -> (summary: TriageSummary, blockers: [RankedBlocker]) {
        var byKind: [BlockerKind: [(VmaExplanation, Int)]] = [:]
        for v in vmas {
            for (kind, kb) in v.heldBackKB where kb > 0 { byKind[kind, default: []].append((v, kb)) }
        }
        let blockers = byKind.map { kind, list -> RankedBlocker in
            let sorted = list.sorted { ($0.1, $1.0.start) > ($1.1, $0.0.start) }
            let also = Set(sorted.flatMap { $0.0.kinds }).subtracting([kind, .tooSmall, .kernelIneligible]).sorted()
            return RankedBlocker(kind: kind, title: kind.title, kb: list.reduce(0) { $0 + $1.1 }, vmaCount: list.count,
                                 processCount: Set(list.compactMap { $0.0.pid }).count,
                                 largest: sorted.prefix(largestShown).map { VmaRef(pid: $0.0.pid ?? 0, start: $0.0.start, end: $0.0.end, name: $0.0.name, kb: $0.1) },
                                 also: also,
                                 remedy: Remedies.remedy(kind, largest: sorted[0].0, ctx))
        }.sorted { ($0.kb, $1.kind) > ($1.kb, $0.kind) }
        let resident = vmas.reduce(0) { $0 + ($1.classesKB["pmd"] ?? 0) + ($1.classesKB["pte_thp"] ?? 0) + ($1.classesKB["mthp"] ?? 0) + ($1.classesKB["small"] ?? 0) }
        let pmd = vmas.reduce(0) { $0 + ($1.classesKB["pmd"] ?? 0) }
        let held = blockers.reduce(0) { $0 + $1.kb }
        let pids = Set(vmas.compactMap(\.pid)).count
        let cov = resident == 0 ? 0 : (Double(pmd) * 1000 / Double(resident)).rounded() / 10
        return (TriageSummary(processes: pids, residentKB: resident, pmdKB: pmd, coveragePercent: cov, heldBackKB: held), blockers)
    }
}
