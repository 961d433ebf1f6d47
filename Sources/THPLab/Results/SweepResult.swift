
/// One knob and the values a sweep tries.
public struct SweepAxis: Codable, Equatable, Sendable {
    public var name: String
    public var values: [String]

    /// Parses `NAME=V1,V2,...`, resolving the name and checking every value.
    public static func parse(_ text: String, sysfs: THPSysfs) throws -> SweepAxis {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw THPLabError.usage("--knob '\(text)' is not NAME=V1,V2,...")
        }
        let name = try KnobRequest.resolve(String(text[..<eq]), present: sysfs.presentKnobs())
        let values = text[text.index(after: eq)...].split(separator: ",").map { String($0).trimmingWhitespace() }
        guard !values.isEmpty, !values.contains(where: \.isEmpty) else { throw THPLabError.usage("--knob \(name) needs values: NAME=V1,V2,...") }
        for v in values { try sysfs.validate(name: name, value: v) }
        return SweepAxis(name: name, values: values)
    }

    /// The one axis that is not a knob: bloat's pages touched per extent.
    public static let touchedName = "touched"
    public var isKnob: Bool { name != Self.touchedName }
    public static func touched(_ values: [String]) -> SweepAxis { SweepAxis(name: touchedName, values: values) }

    /// Every combination of the axes' values, first axis slowest.
    public static func points(_ axes: [SweepAxis]) -> [[String: String]] {
        axes.reduce([[:]]) { acc, axis in
            acc.flatMap { p in axis.values.map { v in p.merging([axis.name: v]) { $1 } } }
        }
    }
}

public struct SweepPoint: Codable, Sendable {
    public var knobs: [String: String]
    public var runs: Int
    /// Collapsed extents summed over the runs, and the extents tried.
    public var collapsed: Int
    public var total: Int
    public var expectedCollapsed: Int
    public var coveragePercent: Double
    /// Over every collapsed extent of every run at this point.
    public var latency: LatencyStats?
    /// Median over runs of the time to full coverage, in ms.
    public var fullCoverageMs: Double?
    public var ok: Bool
    public var differences: [String]
    /// bloat: what the point cost and what came back.
    public var bloat: SweepBloat?
    /// benefit: the memory added beside the access time saved (the run's
    /// own when there is one; the median run by speedup when repeated).
    public var benefit: AccessTradeoff?

    enum CodingKeys: String, CodingKey {
        case knobs, runs, collapsed, total, expectedCollapsed = "expected_collapsed", coveragePercent = "coverage_percent"
        case latency, fullCoverageMs = "full_coverage_ms", ok, differences, bloat, benefit
    }
}

/// One bloat sweep point: the zeros made resident and the memory the
/// shrinker gave back (means over the runs, kB), the THPs split against
/// the rule, and the sentence saying what the setting buys and costs.
public struct SweepBloat: Codable, Sendable {
    public var touched: Int
    public var addedKB: Int
    public var returnedKB: Int?
    public var split: Int
    public var expectedSplit: Int
    public var sentence: String

    enum CodingKeys: String, CodingKey {
        case touched, addedKB = "added_kb", returnedKB = "returned_kb", split, expectedSplit = "expected_split", sentence
    }
}

public struct SweepCheck: Codable, Sendable {
    public var name: String
    public var held: Bool
    public var detail: String
}

public struct SweepResult: Codable, Sendable {
    public var scenario: RegionOptions.Scenario
    public var kernelRelease: String
    public var options: RegionOptions
    public var axes: [SweepAxis]
    public var repeatCount: Int
    public var points: [SweepPoint]
    public var checks: [SweepCheck]
    public var knobsBefore: [String: String]
    public var knobsAfter: [String: String]
    public var ok: Bool
    public var differences: [String]
    /// What the scenario tells of the sweep as a whole; nil for nothing.
    public var notes: [String]?

    enum CodingKeys: String, CodingKey {
        case scenario, kernelRelease = "kernel_release", options, axes
        case repeatCount = "repeat", points, checks, knobsBefore = "knobs_before", knobsAfter = "knobs_after", ok, differences, notes
    }
}
