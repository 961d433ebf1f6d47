import SystemPackage

/// One point of a `watch` timeline.
public struct WatchSample: Codable, Equatable, Sendable {
    /// Seconds since the watch started.
    public var t: Double
    public var residentKB: Int
    public var pmdKB: Int
    public var swappedKB: Int
    public var coveragePercent: Double
    /// The full classes, on the samples where they were taken.
    public var classesKB: [String: Int]?
    /// mTHP kB by folio size in kB ("64" -> kB), with the full classes.
    public var mthpSizesKB: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case t, residentKB = "resident_kb", pmdKB = "pmd_kb", swappedKB = "swapped_kb"
        case coveragePercent = "coverage_percent", classesKB = "classes_kb", mthpSizesKB = "mthp_sizes_kb"
    }
}

public struct WatchResult: Codable, Sendable {
    public var kernelRelease: String
    public var pid: Int32
    public var comm: String
    public var intervalMs: Int
    public var startedAt: Double
    public var samples: [WatchSample]
    /// `duration`, `interrupted` or `process exited`.
    public var ended: String
    public var method: String
    /// Every process watched, when the target held more than one; the
    /// samples are their sums.
    public var pids: [Int32]? = nil
    public var notes: [String]? = nil

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", pid, comm
        case intervalMs = "interval_ms", startedAt = "started_at", samples, ended, method, pids, notes
    }
}
