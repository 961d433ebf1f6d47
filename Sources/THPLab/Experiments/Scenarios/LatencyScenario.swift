/// `run latency`: time from MADV_HUGEPAGE to each extent's collapse and to
/// full coverage, under the khugepaged knobs in force. Those knobs are what
/// is measured, so the run never makes khugepaged fast.
struct LatencyScenario: RegionScenario {
    var measuredKnobs: Set<Knob> { [.scanSleepMillisecs, .allocSleepMillisecs, .pagesToScan] }
    func allowsProcesses(trigger: Trigger) -> Bool { true }
}
