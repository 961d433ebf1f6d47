/// `run latency`: time from MADV_HUGEPAGE to each extent's collapse and to
/// full coverage, under the khugepaged knobs in force. Those knobs are what
/// is measured, so the run never makes khugepaged fast.
struct LatencyScenario: RegionScenario {
    var name: RegionOptions.Scenario { .latency }
    var abstract: String { "Time from MADV_HUGEPAGE to each extent's collapse and to full coverage, under the current khugepaged knobs." }
    var discussion: String {
        "Times come from the tracepoints' own clock (microseconds) against a trace_marker written at MADV_HUGEPAGE; without tracefs, from polling (about 5 ms). thplab does not make khugepaged fast here: the knobs in force are what is measured (sweep scan_sleep_millisecs or pages_to_scan to compare)."
    }
    var sweepExample: String? { "thplab sweep latency --knob scan_sleep_millisecs=10,100,1000 --extents 8" }
    var measuredKnobs: Set<Knob> { [.scanSleepMillisecs, .allocSleepMillisecs, .pagesToScan] }
    func allowsProcesses(trigger: Trigger) -> Bool { true }

    /// Along the one axis with several values (the others held at one):
    /// time to full coverage falls as scan_sleep_millisecs falls or
    /// pages_to_scan rises (an ordering, never a figure).
    func sweepChecks(axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] {
        let varying = axes.filter { $0.values.count > 1 }
        guard varying.count == 1 else { return [] }
        let name = varying[0].name
        let falling: Bool? = name == Knob.scanSleepMillisecs.rawValue ? true : name == Knob.pagesToScan.rawValue ? false : nil
        guard let falling else { return [] }
        // Order points so that khugepaged should be faster later.
        let ordered = points.compactMap { p -> (Int, Double)? in
            guard let v = Int(p.knobs[name] ?? ""), let t = p.fullCoverageMs else { return nil }
            return (v, t)
        }.sorted { falling ? $0.0 > $1.0 : $0.0 < $1.0 }
        let held = ordered.count == points.count && zip(ordered, ordered.dropFirst()).allSatisfy { $0.1 >= $1.1 }
        let figures = ordered.map { "\($0.0): \(String(cFormat: "%.1f", $0.1)) ms" }.joined(separator: ", ")
        return [SweepCheck(name: "latency ordering", held: held,
                           detail: "time to full coverage by \(name): \(figures)" + (ordered.count == points.count ? "" : " (some points never reached full coverage)"))]
    }
}

extension RegionOptions.Scenario {
    public static let latency = Self(declaring: "latency")
}
