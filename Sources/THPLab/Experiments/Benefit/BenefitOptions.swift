/// `run benefit`: the working set's size and memory kind, and how the
/// states are measured.
public struct BenefitOptions: Codable, Equatable, Sendable {
    /// Bytes of the working set, a multiple of 2 MiB.
    public var size: Int = 1 << 30
    public var memory: MthpMemory = .anon
    /// Multi-size THP sizes (kB) to measure as states of their own; nil:
    /// every size below the PMD size the memory's policies enable now.
    public var mthpKB: [Int]?
    /// Rounds; each measures every state once, in turn.
    public var rounds: Int = 5
    /// The least time one measurement (one kernel, one state, one round)
    /// takes: the chase's length and the stream's passes are set from it.
    public var roundSeconds: Double = 0.5

    enum CodingKeys: String, CodingKey { case size, memory, mthpKB = "mthp_kb", rounds, roundSeconds = "round_seconds" }

    public init() {}

    /// Copies of the working set that exist at once: anonymous memory has
    /// one per state; shmem's PMD- and PTE-mapped states are two mappings
    /// of one object (the same physical pages).
    public func copies(mthpSizes: Int) -> Int { (memory == .anon ? 3 : 2) + mthpSizes }

    public func validate(room: MemoryRoom?, policies: MthpPolicies? = nil) throws {
        let pmd = PageGeometry.pmdSize
        guard size >= pmd, size % pmd == 0 else {
            throw THPLabError.usage("--size must be a multiple of 2 MiB, at least 2M (given \(SizeParser.format(size)))")
        }
        guard (1...100).contains(rounds) else { throw THPLabError.usage("--rounds must be from 1 to 100") }
        guard roundSeconds > 0, roundSeconds <= 60 else { throw THPLabError.usage("--round-seconds must be above 0 and at most 60") }
        let sizes = try mthpSizes(policies)
        let copies = copies(mthpSizes: sizes.count)
        let needed = Int64(size) * Int64(copies) + (64 << 20)
        if let room, needed > room.kb * 1024 {
            throw THPLabError.usage("--size \(SizeParser.format(size)) needs about \(needed >> 20) MiB (\(copies) copies of the working set, one per state that needs its own pages), but only \(room.kb >> 10) MiB is available (\(room.source)); choose a smaller --size")
        }
    }
}

extension BenefitOptions {
    /// The mTHP sizes to measure: those asked for (each offered by the
    /// kernel for this memory), or every size below the PMD size whose
    /// policy is not never. tmpfs has none: its mount's huge= governs it.
    public func mthpSizes(_ policies: MthpPolicies?) throws -> [Int] {
        guard let policies else { return mthpKB ?? [] }
        let below = policies.offered(memory).filter { $0 < PageGeometry.pmdKB }
        guard let asked = mthpKB else {
            return below.filter { (policies.effective(memory, sizeKB: $0) ?? "never") != "never" }
        }
        for kB in asked where !below.contains(kB) {
            throw THPLabError.unsupported(memory == .tmpfs
                ? "--mthp is for anon and shmem: a tmpfs file's folio sizes follow its mount's huge=, not per-size policies"
                : "--mthp \(kB)K: this kernel offers no \(kB) kB size for \(memory.rawValue) (it offers \(below.isEmpty ? "none: multi-size THP came in 6.8 for anon, 6.11 for shmem" : below.map { "\($0)K" }.joined(separator: ", ")))")
        }
        return asked
    }
}

/// How the working set is mapped while it is measured.
public enum AccessState: Hashable, Sendable, RawRepresentable, Codable {
    /// Base pages only: no large folio anywhere.
    case small
    /// Multi-size THP: folios of this many kB (below the PMD size) only.
    case mthp(Int)
    /// Huge folios mapped by PTEs (anon: PMDs split after the collapse;
    /// shmem: a mapping misaligned to the file offset).
    case pteMapped
    /// Huge folios mapped by PMDs.
    case pmd

    public init?(rawValue: String) {
        switch rawValue {
        case "small": self = .small
        case "pte-mapped": self = .pteMapped
        case "pmd": self = .pmd
        default:
            guard rawValue.hasPrefix("mthp-"), rawValue.hasSuffix("kB"), let kB = Int(rawValue.dropFirst(5).dropLast(2)) else { return nil }
            self = .mthp(kB)
        }
    }

    public var rawValue: String {
        switch self {
        case .small: return "small"
        case .mthp(let kB): return "mthp-\(kB)kB"
        case .pteMapped: return "pte-mapped"
        case .pmd: return "pmd"
        }
    }

    /// Whether `c` (the state's own pages) is this state: small has no
    /// large folio; the others have at least 95% of their pages so mapped.
    public func holds(_ c: ClassCounts) -> Bool {
        let total = c.pmd + c.pteThp + c.mthp + c.small
        guard total > 0 else { return false }
        switch self {
        case .small: return c.pmd == 0 && c.pteThp == 0 && c.mthp == 0
        case .mthp(let kB): return c.pmd == 0 && c.pteThp == 0 && (c.mthpSizes[String(kB)] ?? 0) * 100 >= total * 95
        case .pteMapped: return c.pmd == 0 && c.pteThp * 100 >= total * 95
        case .pmd: return c.pmd * 100 >= total * 95
        }
    }

    /// The states of one run: small, each mTHP size asked for, PTE-mapped, PMD.
    public static func planned(mthpKB: [Int]) -> [AccessState] { [.small] + mthpKB.sorted().map { .mthp($0) } + [.pteMapped, .pmd] }
}
