import Foundation
import Testing
@testable import THPLab

/// `sweep benefit`: the memory a collapse added beside the access time it
/// saved, point by point; judged from a saved sweep of this machine and from
/// figures made to sit on each side of every line the sentence draws.
@Suite struct TradeoffTests {
    @Test func savedSweepWeighsEachPointAndSaysSo() throws {
        let r = try Fixture.result("result-sweep-benefit-6.18.json", as: SweepResult.self)
        #expect(r.scenario == .benefit && r.points.count == 6 && r.ok)
        for p in r.points {
            let b = try #require(p.benefit, "\(p.knobs)")
            #expect(b.collapsed == p.collapsed && b.addedKB == p.collapsed * (512 - b.touched) * 4, "\(p.knobs)")
            let held = Sweep.builtInChecks(scenario: .benefit, axes: r.axes, points: [p]).allSatisfy { $0.held }
            #expect(held, "\(p.knobs)")
            #expect((b.netSpeedup == nil) == (b.collapsed == 0), "\(p.knobs): nothing bought where nothing collapsed")
        }
        let text = SweepTextReport.render(r)
        #expect(text.contains("ADDED/EXTENT  CHASE ns before -> after  SPEEDUP  NET"))
        #expect(text.contains("  max_ptes_none=511, 64 of 512 pages touched, 256 of 256 extents collapsed: +1792k per extent (448M in all), chase 1.69x faster (45 -> 27 ns per access)"))
        #expect(text.contains("  max_ptes_none=0, 64 of 512 pages touched, nothing collapsed: no memory added and nothing bought (the chase moved 1.07x, the small-page control 1.07x: this machine's noise)"))
        #expect(text.contains("note: where nothing collapsed the chase still moved 0.96x to 1.07x"))
        let html = HTMLSweep.render(r)
        #expect(html.contains("Speedup bought against memory added") && html.contains("class=\"pointlabel\"") && html.contains("max_ptes_none=511</text>"))
        let csv = try CSVReport.render(.sweep(r)).split(separator: "\n")
        #expect(csv.first?.hasSuffix("added_kb,added_per_extent_kb,chase_before_ns,chase_after_ns,speedup,measurable,control_change,net_speedup,ok") == true)
        #expect(csv.count == 7)
    }

    static func figure(_ median: Double, spread: Double = 1) -> AccessFigure {
        AccessFigure(medianNs: median, minNs: median - spread, maxNs: median + spread)
    }

    static func point(collapsed: Int = 4, before: Double = 90, after: Double = 60, rounds: Int = 3, spread: Double = 1) -> AccessTradeoff {
        AccessTradeoff(touched: 64, extents: 4, collapsed: collapsed, addedKB: collapsed * 448 * 4, before: figure(before, spread: spread),
                       after: figure(after, spread: spread), rounds: rounds, noTiming: nil)
    }

    @Test func aSpeedupIsQuotedOnlyWhenTheRoundsAreApart() {
        let apart = Self.point()
        #expect(apart.speedup == 1.5 && apart.measurable == true)
        #expect(apart.sentence == "64 of 512 pages touched, 4 of 4 extents collapsed: +1792k per extent (7M in all), chase 1.50x faster (90 -> 60 ns per access)")
        let overlapping = Self.point(before: 62, after: 60, spread: 3)
        #expect(overlapping.measurable == false && overlapping.sentence.hasSuffix("chase time not measurably different (62 -> 60 ns per access, the rounds overlap)"))
        let once = Self.point(rounds: 1)
        #expect(once.measurable == nil && once.sentence.contains("one round, noise unknown"))
        let slower = Self.point(before: 60, after: 90)
        #expect(slower.sentence.hasSuffix("chase 1.50x slower (60 -> 90 ns per access)"))
    }

    @Test func theControlSaysWhenTheMachineMoved() {
        var moved = Self.point()
        moved.control(before: Self.figure(100), after: Self.figure(80))
        #expect(moved.controlChange == 1.25 && moved.netSpeedup == 1.2 && moved.machineChanged)
        #expect(moved.sentence.hasSuffix("; a small-page control changed 1.25x over the same time, so the machine moved too: net of it, 1.20x"))
        var still = Self.point()
        still.control(before: Self.figure(100), after: Self.figure(97))
        #expect(still.controlChange == 1.03 && !still.machineChanged && !still.sentence.contains("control"))
        var idle = Self.point(collapsed: 0, before: 90, after: 88)
        idle.control(before: Self.figure(100), after: Self.figure(99))
        #expect(idle.netSpeedup == nil && idle.addedKB == 0)
        #expect(idle.sentence == "64 of 512 pages touched, nothing collapsed: no memory added and nothing bought (the chase moved 1.02x, the small-page control 1.01x: this machine's noise)")
    }

    @Test func underEmulationThereIsNoTiming() {
        let t = AccessTradeoff(touched: 64, extents: 4, collapsed: 4, addedKB: 4 * 448 * 4, before: nil, after: nil, rounds: 3,
                               noTiming: "the CPU is emulated in software")
        #expect(t.speedup == nil && t.measurable == nil)
        #expect(t.sentence == "64 of 512 pages touched, 4 of 4 extents collapsed: +1792k per extent (7M in all), no timing (the CPU is emulated in software)")
    }

    /// The chase over a list of pages visits each listed page once, in one
    /// cycle, and no other page.
    @Test func theChaseWalksTheTouchedPagesOnly() throws {
        let listed = [0, 1, 2, 512, 513, 1024, 1030]
        let chain = AccessChain(pageIndices: listed)
        let region = try MappedRegion(anonymousLength: 3 * PageGeometry.pmdSize)
        chain.write(into: region)
        let base = try #require(UnsafeRawPointer(bitPattern: region.start))
        var at = Int(chain.start), seen: [Int] = []
        repeat {
            seen.append(at / PageGeometry.pageSize)
            at = Int(base.load(fromByteOffset: at, as: UInt64.self))
        } while at != Int(chain.start) && seen.count <= listed.count
        #expect(seen.sorted() == listed)
    }

    /// sweep benefit is swept, never run alone: `run benefit` is the state comparison.
    @Test func benefitIsSweptButNotRunOrInTheBattery() {
        #expect(RegionOptions.Scenario.swept.contains(.benefit) && !RegionOptions.Scenario.allCases.contains(.benefit))
        // The battery's one `run benefit` is the state comparison's (with its --size), not a region scenario's.
        #expect(Battery.plan.filter { $0.starts(with: ["run", "benefit"]) } == [Battery.benefit])
        let o = RegionOptions(scenario: .benefit)
        #expect(o.extents == 256 && o.present == 64 && o.backing == .anon && o.trigger == .khugepaged)
    }

    @Test func khugepagedSleepsWhileTheChaseIsTimed() {
        let fast = ["khugepaged/scan_sleep_millisecs": SysfsValue(current: "10")]
        #expect(KnobPlan.forQuietTiming(current: fast).map(\.value) == ["600000"])
        let asleep = ["khugepaged/scan_sleep_millisecs": SysfsValue(current: "600000")]
        #expect(KnobPlan.forQuietTiming(current: asleep).isEmpty)
    }
}
