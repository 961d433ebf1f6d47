import Testing
@testable import THPLab

/// What each region scenario allows is declared by the scenario itself;
/// these are the rules RegionOptions.validate once kept in lists of its own.
@Suite struct RegionScenarioTests {
    typealias Scenario = RegionOptions.Scenario

    @Test func triggersProcessesAndDefaultsPerScenario() {
        let madvise: Set<Scenario> = [.collapse, .numa, .bloat, .shared]
        let processesWithKhugepaged: Set<Scenario> = [.latency, .collapse]
        for s in Scenario.allCases {
            let r = s.rules
            #expect(r.allowsMadviseCollapse == madvise.contains(s), "\(s)")
            #expect(r.allowsProcesses(trigger: .khugepaged) == processesWithKhugepaged.contains(s), "\(s)")
            #expect(r.allowsProcesses(trigger: .madvise) == (s == .latency), "\(s)")
            #expect(r.allowsNothingPresent == (s == .bloat), "\(s)")
            #expect(RegionOptions(scenario: s).swapped == (s == .swap ? 128 : 0), "\(s)")
            // The command line's defaults: `run` and `sweep` take them from here.
            #expect(s.defaultTrigger == (s == .collapse ? .madvise : .khugepaged), "\(s)")
            #expect(s.defaultBacking == ([.bloat, .shared].contains(s) ? .anon : .memfd), "\(s)")
            #expect(s.defaultPresent == (s == .sparse ? 256 : s == .bloat ? 64 : 512), "\(s)")
        }
    }

    /// A scenario about khugepaged refuses MADV_COLLAPSE with the reason;
    /// one that allows it takes it.
    @Test(arguments: Scenario.allCases)
    func madviseCollapseIsRefusedWithItsReason(scenario: Scenario) {
        var o = RegionOptions(scenario: scenario)
        o.trigger = .madvise
        o.backing = .memfd
        var message = "accepted"
        do { try o.validate(room: nil, topology: SweepModelTests.oneNode) } catch { message = "\(error)" }
        let refused = message.contains("\(scenario.rawValue) is about khugepaged: use --trigger khugepaged")
        #expect(refused == !scenario.rules.allowsMadviseCollapse, "\(scenario): \(message)")
    }
}
