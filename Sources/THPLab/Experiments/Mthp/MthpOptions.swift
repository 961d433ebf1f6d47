/// `run mthp`: the memories to try, the per-size policies to set for the
/// run (NAME=VALUE, journaled and put back), and the swap to use.
public struct MthpOptions: Codable, Equatable, Sendable {
    public enum Swap: String, Codable, CaseIterable, Sendable {
        /// The host's swap, else a swap file thplab makes in `swapDirectory`.
        case file
        /// The host's swap, else zram0 (non-rotational).
        case zram
        /// No swap step.
        case none
    }

    public var memory: [MthpMemory] = MthpMemory.perSize
    /// The `huge=` of the tmpfs the tmpfs memory's files live on.
    public var tmpfsHuge: TmpfsHuge = .within_size
    /// Per-size policies for the run; empty: thplab's defaults (`defaults`).
    public var knobs: [String] = []
    public var swap: Swap = .file
    public var swapDirectory: String = "/var/tmp"
    /// How the collapse step collapses: MADV_COLLAPSE or khugepaged.
    public var trigger: Trigger = .madvise
    /// Bound on khugepaged's wait in the collapse step.
    public var timeoutSeconds: Int = 30

    enum CodingKeys: String, CodingKey {
        case memory, knobs, swap, swapDirectory = "swap_directory", trigger, timeoutSeconds = "timeout_seconds", tmpfsHuge = "tmpfs_huge"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        memory = try c.decode([MthpMemory].self, forKey: .memory)
        knobs = try c.decode([String].self, forKey: .knobs)
        swap = try c.decode(Swap.self, forKey: .swap)
        swapDirectory = try c.decode(String.self, forKey: .swapDirectory)
        trigger = try c.decodeIfPresent(Trigger.self, forKey: .trigger) ?? .madvise
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? 30
        tmpfsHuge = try c.decodeIfPresent(TmpfsHuge.self, forKey: .tmpfsHuge) ?? .within_size
    }

    public init() {}

    /// Without --knob: one size `always` and a larger one only with
    /// MADV_HUGEPAGE, for each memory, so every step has mTHP to show;
    /// the PMD size keeps its own policy (the fallback step allows it with
    /// MADV_HUGEPAGE for itself alone where it needs to).
    public static func defaults(offered: MthpPolicies, memory: [MthpMemory] = MthpMemory.perSize) -> [String] {
        var out: [String] = []
        for m in MthpMemory.perSize where memory.contains(m) {
            let sizes = m == .anon ? offered.anon : offered.shmem
            if sizes[16] != nil { out.append("hugepages-16kB/\(m.knobFile)=always") }
            if sizes[64] != nil { out.append("hugepages-64kB/\(m.knobFile)=\(m == .anon ? "madvise" : "advise")") }
        }
        return out
    }

    public func validate() throws {
        guard (1...600).contains(timeoutSeconds) else { throw THPLabError.usage("--timeout must be from 1 to 600 seconds") }
        guard !memory.isEmpty else { throw THPLabError.usage("give at least one --memory (anon, shmem or tmpfs)") }
        guard Set(memory).count == memory.count else { throw THPLabError.usage("each --memory once") }
        for k in knobs {
            guard let eq = k.firstIndex(of: "="), let name = k[..<eq].split(separator: "/").first,
                  k[..<eq].contains("/"), PerSizeStats.sizeKB(directory: name) != nil else {
                throw THPLabError.usage("--knob \(k): run mthp sets per-size policies only, as hugepages-<N>kB/enabled=VALUE or hugepages-<N>kB/shmem_enabled=VALUE")
            }
        }
    }
}
