import Foundation
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
            #expect(r.countsTouchedPages == (s == .bloat) && s.takesTouched == (s == .bloat), "\(s)")
            #expect(s.takesShared == (s == .shared), "\(s)")
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

/// The reports take each scenario's own knobs and words from the scenario:
/// on saved results of the fixtures, the lines they were before.
@Suite struct RegionScenarioReportTests {
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + name).path
    }

    @Test(arguments: [
        ("result-bloat-6.18.json", "knobs in force: max_ptes_none=", "shrink_underused="),
        ("result-shared-6.18.json", "knobs in force: max_ptes_none=", "max_ptes_shared="),
        ("result-collapse-anon-khugepaged-6.18.json", "knobs in force: max_ptes_none=", nil),
    ] as [(String, String, String?)])
    func theRunReportShowsTheScenariosKnobs(file: String, line: String, own: String?) throws {
        let r = try ResultFile.read(Self.fixture(file), as: RegionResult.self)
        let knobs = try #require(RegionTextReport.render(r).split(separator: "\n").first { $0.hasPrefix(line) })
        for k in ["shrink_underused=", "max_ptes_shared=", "max_ptes_swap="] {
            #expect(knobs.contains(k) == (k == own), "\(file): \(knobs)")
        }
        #expect(knobs.contains("scan_sleep_millisecs=") && knobs.contains("pages_to_scan="))
    }

    @Test func theSweepReportCallsBloatsPagesTouched() throws {
        let bloat = try ResultFile.read(Self.fixture("result-sweep-bloat-6.18.json"), as: SweepResult.self)
        let sparse = try ResultFile.read(Self.fixture("result-sweep-sparse-6.18.json"), as: SweepResult.self)
        let first = { (r: SweepResult) in String(SweepTextReport.render(r).split(separator: "\n")[0]) }
        // A sweep with a --touched axis names no page count in its title line.
        #expect(!first(bloat).contains("pages present"), "\(first(bloat))")
        #expect(first(sparse).contains("/512 pages present"), "\(first(sparse))")
        var one = bloat
        one.axes = one.axes.filter(\.isKnob)
        #expect(first(one).contains("/512 pages touched"), "\(first(one))")
    }
}
