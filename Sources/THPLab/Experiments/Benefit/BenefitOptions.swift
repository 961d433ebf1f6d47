/// `run benefit`: the working set's size and memory kind, and how the
/// states are measured.
public struct BenefitOptions: Codable, Equatable, Sendable {
    /// Bytes of the working set, a multiple of 2 MiB.
    public var size: Int = 1 << 30
    public var memory: MthpMemory = .anon
    /// Rounds; each measures every state once, in turn.
    public var rounds: Int = 5
    /// The least time one measurement (one kernel, one state, one round)
    /// takes: the chase's length and the stream's passes are set from it.
    public var roundSeconds: Double = 0.5

    enum CodingKeys: String, CodingKey { case size, memory, rounds, roundSeconds = "round_seconds" }

    public init() {}

    /// Copies of the working set that exist at once: anonymous memory has
    /// one per state; shmem's PMD- and PTE-mapped states are two mappings
    /// of one object (the same physical pages).
    public var copies: Int { memory == .anon ? AccessState.allCases.count : 2 }

    public func validate(room: MemoryRoom?) throws {
        let pmd = PageGeometry.pmdSize
        guard size >= pmd, size % pmd == 0 else {
            throw THPLabError.usage("--size must be a multiple of 2 MiB, at least 2M (given \(SizeParser.format(size)))")
        }
        guard (1...100).contains(rounds) else { throw THPLabError.usage("--rounds must be from 1 to 100") }
        guard roundSeconds > 0, roundSeconds <= 60 else { throw THPLabError.usage("--round-seconds must be above 0 and at most 60") }
        let needed = Int64(size) * Int64(copies) + (64 << 20)
        if let room, needed > room.kb * 1024 {
            throw THPLabError.usage("--size \(SizeParser.format(size)) needs about \(needed >> 20) MiB (\(copies) copies of the working set, one per state that needs its own pages), but only \(room.kb >> 10) MiB is available (\(room.source)); choose a smaller --size")
        }
    }
}

/// How the working set is mapped while it is measured.
public enum AccessState: String, Codable, CaseIterable, Sendable {
    /// Base pages only: no huge folio anywhere.
    case small
    /// Huge folios mapped by PTEs (anon: PMDs split after the collapse;
    /// shmem: a mapping misaligned to the file offset).
    case pteMapped = "pte-mapped"
    /// Huge folios mapped by PMDs.
    case pmd

    /// Whether `c` (the state's own pages) is this state: small has no huge
    /// folio; the others have at least 95% of their pages so mapped.
    public func holds(_ c: ClassCounts) -> Bool {
        let total = c.pmd + c.pteThp + c.mthp + c.small
        guard total > 0 else { return false }
        switch self {
        case .small: return c.pmd == 0 && c.pteThp == 0 && c.mthp == 0
        case .pteMapped: return c.pmd == 0 && c.pteThp * 100 >= total * 95
        case .pmd: return c.pmd * 100 >= total * 95
        }
    }
}
