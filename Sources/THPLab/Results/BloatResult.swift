/// One extent of `run bloat`: the memory it held as written, after the
/// collapse, and after the memory cgroup's pressure. Pages are 4 kB pages
/// from pagemap; zero-page mappings hold no memory of their own and are
/// not counted as resident.
public struct ExtentBloat: Codable, Equatable, Sendable {
    /// Pages the run wrote (non-zero data).
    public var touched: Int
    public var residentBefore: Int
    public var residentAfterCollapse: Int
    /// Pages of zeros the collapse made resident (after - before).
    public var zeroFilled: Int
    /// After the pressure (nil where there was none: shmem, or no shrinker).
    public var residentAfterPressure: Int?
    /// Subpages mapped to the shared zero page after the pressure.
    public var zeroPageMapped: Int?
    /// Whether the extent's THP was split (PMD-mapped before the pressure, not after).
    public var split: Bool?
    public var expectedSplit: Bool?
    /// Why it should or should not split, in one line.
    public var rule: String?

    enum CodingKeys: String, CodingKey {
        case touched, residentBefore = "resident_before", residentAfterCollapse = "resident_after_collapse"
        case zeroFilled = "zero_filled", residentAfterPressure = "resident_after_pressure"
        case zeroPageMapped = "zero_page_mapped", split, expectedSplit = "expected_split", rule
    }
}

/// `run bloat` in total: the region's resident memory before and after
/// the collapse (pagemap and smaps), and what the underused-THP shrinker
/// did when the run pressed its own memory cgroup.
public struct BloatSummary: Codable, Equatable, Sendable {
    public var touched: Int
    /// The region's resident memory in kB from pagemap (zero-page mappings excluded).
    public var residentBeforeKB: Int
    public var residentAfterCollapseKB: Int
    /// smaps Rss and Anonymous of the region's mapping.
    public var rssBeforeKB: Int
    public var rssAfterCollapseKB: Int
    public var anonymousAfterCollapseKB: Int
    /// The memory the collapse added, in kB.
    public var addedKB: Int
    /// The cgroup the run made and joined (v1 or v2).
    public var cgroup: String
    public var shrinker: ShrinkerOutcome?
    /// Why there is no shrinker outcome, when there is none.
    public var noShrinker: String?

    enum CodingKeys: String, CodingKey {
        case touched, residentBeforeKB = "resident_before_kb", residentAfterCollapseKB = "resident_after_collapse_kb"
        case rssBeforeKB = "rss_before_kb", rssAfterCollapseKB = "rss_after_collapse_kb"
        case anonymousAfterCollapseKB = "anonymous_after_collapse_kb", addedKB = "added_kb", cgroup, shrinker
        case noShrinker = "no_shrinker"
    }
}

/// What pressing the run's memory cgroup did to its THPs.
public struct ShrinkerOutcome: Codable, Equatable, Sendable {
    public var pressure: MemoryCgroup.Pressure
    public var split: Int
    public var expectedSplit: Int
    public var residentAfterKB: Int
    public var rssAfterKB: Int
    /// Memory given back: resident after the collapse - after the pressure.
    public var returnedKB: Int
    public var zeroPageMapped: Int
    public var coverageAfterPercent: Double
    /// thp_underused_split_page, thp_split_page, thp_deferred_split_page
    /// across the pressure, and the per-size `split_deferred` ("2048" -> n).
    public var counters: [String: Int64]
    public var splitDeferred: [String: Int64]

    enum CodingKeys: String, CodingKey {
        case pressure, split, expectedSplit = "expected_split", residentAfterKB = "resident_after_kb", rssAfterKB = "rss_after_kb"
        case returnedKB = "returned_kb", zeroPageMapped = "zero_page_mapped", coverageAfterPercent = "coverage_after_percent"
        case counters, splitDeferred = "split_deferred"
    }
}
