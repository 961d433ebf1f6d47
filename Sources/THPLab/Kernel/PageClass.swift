/// What backs one virtual page, in thplab's classes.
public enum PageClass: String, Codable, CaseIterable, Sendable {
    /// Part of a THP mapped by a PMD.
    case pmd
    /// Part of a PMD-sized (or larger) THP mapped by PTEs.
    case pteThp = "pte_thp"
    /// Part of a large folio smaller than a PMD (multi-size THP).
    case mthp
    /// A base page, not part of any large folio.
    case small
    /// Swapped out.
    case swapped
    /// Not present.
    case none

    /// The class as the text report writes it.
    public var label: String { self == .pteThp ? "pte-thp" : rawValue }

    /// One letter per page for `--pages`.
    public var letter: Character {
        switch self {
        case .pmd: return "P"
        case .pteThp: return "T"
        case .mthp: return "m"
        case .small: return "s"
        case .swapped: return "w"
        case .none: return "."
        }
    }
}

/// Pages per class, with the anonymous ones and mTHP folio sizes counted.
public struct ClassCounts: Codable, Equatable, Sendable {
    public var pmd = 0
    public var pteThp = 0
    public var mthp = 0
    public var small = 0
    public var swapped = 0
    public var none = 0
    /// Present pages that are anonymous (the rest are file or shmem).
    public var anon = 0
    /// mTHP pages by folio size in kB ("64" -> pages).
    public var mthpSizes: [String: Int] = [:]

    enum CodingKeys: String, CodingKey {
        case pmd, pteThp = "pte_thp", mthp, small, swapped, none, anon, mthpSizes = "mthp_sizes_kb"
    }

    public init() {}

    public subscript(c: PageClass) -> Int {
        get {
            switch c {
            case .pmd: return pmd
            case .pteThp: return pteThp
            case .mthp: return mthp
            case .small: return small
            case .swapped: return swapped
            case .none: return none
            }
        }
        set {
            switch c {
            case .pmd: pmd = newValue
            case .pteThp: pteThp = newValue
            case .mthp: mthp = newValue
            case .small: small = newValue
            case .swapped: swapped = newValue
            case .none: none = newValue
            }
        }
    }

    public var total: Int { PageClass.allCases.reduce(0) { $0 + self[$1] } }
    public var resident: Int { pmd + pteThp + mthp + small }

    public static func + (a: ClassCounts, b: ClassCounts) -> ClassCounts {
        var r = a
        r += b
        return r
    }

    public static func += (a: inout ClassCounts, b: ClassCounts) {
        for c in PageClass.allCases { a[c] += b[c] }
        a.anon += b.anon
        for (k, v) in b.mthpSizes { a.mthpSizes[k, default: 0] += v }
    }

    /// Counts in kB for a page size.
    public func kb(pageKB: Int = 4) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: PageClass.allCases.map { ($0.rawValue, self[$0] * pageKB) })
    }

    /// PMD-mapped share of the resident pages, in percent (0 when nothing is resident).
    public var coveragePercent: Double {
        resident == 0 ? 0 : (Double(pmd) * 1000 / Double(resident)).rounded() / 10
    }
}
