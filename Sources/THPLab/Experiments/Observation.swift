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

/// One mapping at one phase: smaps figures, the page classes and the state.
public struct PhaseObservation: Codable, Equatable, Sendable {
    public var rssKB: Int
    public var anonKB: Int
    public var pmdMappedKB: Int
    /// kB per page class (`pmd`, `pte_thp`, `mthp`, `small`, `swapped`,
    /// `none`) from the classifier; nil if the page tables could not be read.
    public var classesKB: [String: Int]?
    /// Resident kB that belong to a THP of any size, PMD- or PTE-mapped;
    /// nil when PFNs are hidden (no CAP_SYS_ADMIN).
    public var thpKB: Int?
    public var state: MappingState

    /// kB of PMD-sized THPs mapped by PTEs.
    public var pteMappedThpKB: Int? { thpKB == nil ? nil : classesKB?["pte_thp"] }

    enum CodingKeys: String, CodingKey {
        case rssKB = "rss_kb", anonKB = "anon_kb", pmdMappedKB = "pmd_mapped_kb", classesKB = "classes_kb"
        case thpKB = "thp_kb", state, pteMappedThpKB = "pte_mapped_thp_kb"
    }

    public init(rssKB: Int, anonKB: Int, pmdMappedKB: Int, classes: ClassCounts?, pfnsVisible: Bool) {
        self.rssKB = rssKB
        self.anonKB = anonKB
        self.pmdMappedKB = pmdMappedKB
        self.classesKB = classes?.kb()
        self.thpKB = pfnsVisible ? classes.map { ($0.pmd + $0.pteThp + $0.mthp) * PageGeometry.pageKB } : nil
        self.state = MappingState.classify(rssKB: rssKB, anonKB: anonKB, pmdMappedKB: pmdMappedKB)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rssKB = try c.decode(Int.self, forKey: .rssKB)
        anonKB = try c.decode(Int.self, forKey: .anonKB)
        pmdMappedKB = try c.decode(Int.self, forKey: .pmdMappedKB)
        classesKB = try c.decodeIfPresent([String: Int].self, forKey: .classesKB)
        thpKB = try c.decodeIfPresent(Int.self, forKey: .thpKB)
        state = try c.decode(MappingState.self, forKey: .state)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rssKB, forKey: .rssKB)
        try c.encode(anonKB, forKey: .anonKB)
        try c.encode(pmdMappedKB, forKey: .pmdMappedKB)
        try c.encodeIfPresent(classesKB, forKey: .classesKB)
        try c.encodeIfPresent(thpKB, forKey: .thpKB)
        try c.encodeIfPresent(pteMappedThpKB, forKey: .pteMappedThpKB)
        try c.encode(state, forKey: .state)
    }
}

/// The phases of the retract experiment, in order.
public enum Phase: String, Codable, CodingKeyRepresentable, CaseIterable, Sendable {
    case populated, collapsed, refaulted
}
