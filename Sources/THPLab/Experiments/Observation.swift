/// How a mapping's pages are mapped at one moment, in the words of the report.
public enum MappingState: String, Codable, Sendable, CaseIterable {
    /// Every resident page of the object in this mapping is mapped by a PMD.
    case pmdMapped = "pmd-mapped"
    /// Resident, but at least part of it through PTEs (small pages, a
    /// PTE-mapped THP, or copy-on-write anonymous pages).
    case pteMapped = "pte-mapped"
    /// Nothing resident: the page table was retracted or never filled.
    case notResident = "not-resident"

    /// Classifies smaps figures of one VMA. Anonymous copy-on-write pages
    /// never count against PMD coverage: they belong to no huge page.
    public static func classify(rssKB: Int, anonKB: Int, pmdMappedKB: Int) -> MappingState {
        if rssKB == 0 { return .notResident }
        let fileKB = rssKB - anonKB
        if pmdMappedKB > 0 && pmdMappedKB >= fileKB { return .pmdMapped }
        return .pteMapped
    }
}

/// One mapping at one phase: smaps figures, the page census and the state.
public struct PhaseObservation: Codable, Equatable, Sendable {
    public var rssKB: Int
    public var anonKB: Int
    public var pmdMappedKB: Int
    /// Resident kB that belong to a THP (kpageflags), PMD- or PTE-mapped;
    /// nil when PFNs are hidden.
    public var thpKB: Int?
    /// Resident kB that belong to a THP but are mapped by PTEs.
    public var pteMappedThpKB: Int? {
        thpKB.map { max(0, $0 - pmdMappedKB) }
    }
    public var state: MappingState

    enum CodingKeys: String, CodingKey {
        case rssKB = "rss_kb", anonKB = "anon_kb", pmdMappedKB = "pmd_mapped_kb", thpKB = "thp_kb", state
        case pteMappedThpKB = "pte_mapped_thp_kb"
    }

    public init(rssKB: Int, anonKB: Int, pmdMappedKB: Int, thpKB: Int?) {
        self.rssKB = rssKB
        self.anonKB = anonKB
        self.pmdMappedKB = pmdMappedKB
        self.thpKB = thpKB
        self.state = MappingState.classify(rssKB: rssKB, anonKB: anonKB, pmdMappedKB: pmdMappedKB)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rssKB = try c.decode(Int.self, forKey: .rssKB)
        anonKB = try c.decode(Int.self, forKey: .anonKB)
        pmdMappedKB = try c.decode(Int.self, forKey: .pmdMappedKB)
        thpKB = try c.decodeIfPresent(Int.self, forKey: .thpKB)
        state = try c.decode(MappingState.self, forKey: .state)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rssKB, forKey: .rssKB)
        try c.encode(anonKB, forKey: .anonKB)
        try c.encode(pmdMappedKB, forKey: .pmdMappedKB)
        try c.encodeIfPresent(thpKB, forKey: .thpKB)
        try c.encodeIfPresent(pteMappedThpKB, forKey: .pteMappedThpKB)
        try c.encode(state, forKey: .state)
    }
}

/// The phases of the retract experiment, in order.
public enum Phase: String, Codable, CaseIterable, Sendable {
    case populated, collapsed, refaulted
}
