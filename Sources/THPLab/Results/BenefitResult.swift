/// `run benefit`: what a huge page buys in access time, state by state.
public struct BenefitResult: Codable, Sendable {
    public var kernelRelease: String
    public var options: BenefitOptions
    /// Dependent loads per chase measurement, and stream passes per stream
    /// measurement (each measurement at least `round_seconds`).
    public var chaseSteps: Int
    public var streamPasses: Int
    public var states: [BenefitState]
    /// What hardware counters could add (dTLB misses, walk cycles), or why not.
    public var pmu: String
    public var knobsBefore: [String: String]
    public var knobsAfter: [String: String]
    public var knobsChanged: [KnobChange]
    public var ok: Bool
    public var differences: [String]
    public var notes: [String]
    /// The hypervisor's CPUID signature (KVMKVMKVM, TCGTCGTCGTCG, ...); nil on bare metal.
    public var hypervisor: String?

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", options, chaseSteps = "chase_steps", streamPasses = "stream_passes", states, pmu, hypervisor
        case knobsBefore = "knobs_before", knobsAfter = "knobs_after", knobsChanged = "knobs_changed", ok, differences, notes
    }
}

/// One access state: how it was made, what the memory was when measured,
/// and its figures against small pages.
public struct BenefitState: Codable, Sendable {
    public var state: AccessState
    public var how: String
    /// The classes of its pages at the measurement where they were furthest
    /// from the state (pagemap and kpageflags, taken before each one).
    public var pages: ClassCounts
    /// Whether every measurement found the memory in this state; figures
    /// are kept only then.
    public var held: Bool
    /// Nanoseconds per dependent load (chase) and per 64-byte line (stream).
    public var chase: AccessFigure?
    public var stream: AccessFigure?
    /// Small pages' median over this state's: above 1, this state is faster.
    public var chaseSpeedup: Double?
    public var streamSpeedup: Double?
    /// Whether the rounds' ranges of this state and of small pages are
    /// apart; when they overlap the difference is not measurable here.
    public var chaseMeasurable: Bool?
    public var streamMeasurable: Bool?
    /// Per load of the chase, the median over the rounds, where the CPU's
    /// counters are there: dTLB misses, and cycles with a page walk in
    /// progress (Intel's own event; no generic one exists).
    public var dtlbMissesPerLoad: Double?
    public var walkCyclesPerLoad: Double?

    enum CodingKeys: String, CodingKey {
        case state, how, pages, held, chase, stream, chaseSpeedup = "chase_speedup", streamSpeedup = "stream_speedup"
        case chaseMeasurable = "chase_measurable", streamMeasurable = "stream_measurable"
        case dtlbMissesPerLoad = "dtlb_misses_per_load", walkCyclesPerLoad = "walk_cycles_per_load"
    }
}

/// One figure over the rounds: median, min and max.
public struct AccessFigure: Codable, Equatable, Sendable {
    public var medianNs: Double
    public var minNs: Double
    public var maxNs: Double

    enum CodingKeys: String, CodingKey { case medianNs = "median_ns", minNs = "min_ns", maxNs = "max_ns" }

    public init(medianNs: Double, minNs: Double, maxNs: Double) {
        self.medianNs = medianNs
        self.minNs = minNs
        self.maxNs = maxNs
    }

    /// nil for no samples.
    public static func of(_ samples: [Double]) -> AccessFigure? {
        let s = samples.sorted()
        guard let first = s.first, let last = s.last else { return nil }
        let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        func r(_ v: Double) -> Double { (v * 100).rounded() / 100 }
        return AccessFigure(medianNs: r(median), minNs: r(first), maxNs: r(last))
    }

    /// Whether the two ranges share a value: then the rounds cannot tell them apart.
    public func overlaps(_ other: AccessFigure) -> Bool { minNs <= other.maxNs && other.minNs <= maxNs }

    /// `base`'s median over this one, to two decimals.
    public func speedup(over base: AccessFigure) -> Double { medianNs > 0 ? (base.medianNs / medianNs * 100).rounded() / 100 : 0 }
}
