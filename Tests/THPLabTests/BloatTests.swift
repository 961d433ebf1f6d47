import Foundation
import Testing
@testable import THPLab

/// `run bloat` and `run shared`: the shrinker's rule, the saved real runs
/// re-judged by it, their reports, and the cgroup parsing they rely on.
@Suite struct BloatTests {
    @Test(arguments: [
        (448, 256, "1", true), (112, 256, "1", false), (256, 256, "1", false), (257, 256, "1", true),
        (448, 511, "1", false), (448, 256, "0", false), (448, 0, nil, false),
    ] as [(Int, Int, String?, Bool)])
    func shrinkerSplitsAboveMaxPtesNone(zeroFilled: Int, maxPtesNone: Int, knob: String?, splits: Bool) {
        #expect(ShrinkerRule.split(zeroFilled: zeroFilled, maxPtesNone: maxPtesNone, shrinkUnderused: knob).0 == splits)
    }

    /// The saved 6.18 runs: each extent's split is what the rule says for
    /// the knobs that were in force, and the figures add up.
    @Test(arguments: ["result-bloat-split-6.18.json", "result-bloat-6.18.json"])
    func savedRunsMeetTheShrinkerRule(fixture: String) throws {
        let r = try Fixture.result(fixture, as: RegionResult.self)
        let b = try #require(r.bloat)
        let none = Int(r.knobsInForce[Knob.maxPtesNone.rawValue] ?? "") ?? 511
        let shrink = r.knobsInForce[Knob.shrinkUnderused.rawValue]
        var split = 0
        for e in r.extents {
            let x = try #require(e.bloat)
            #expect(x.zeroFilled == x.residentAfterCollapse - x.residentBefore)
            #expect(x.residentBefore == b.touched)
            let (expected, _) = ShrinkerRule.split(zeroFilled: 512 - b.touched, maxPtesNone: none, shrinkUnderused: shrink)
            #expect(x.split == (e.collapsed && expected))
            if x.split == true {
                #expect(x.zeroPageMapped == 512 - b.touched)
                #expect(x.residentAfterPressure == b.touched)
                split += 1
            }
        }
        let s = try #require(b.shrinker)
        #expect(s.split == split && s.expectedSplit == split)
        #expect(s.counters["thp_underused_split_page"] == Int64(split))
        #expect(b.addedKB == r.collapsed * (512 - b.touched) * 4)
        #expect(s.returnedKB == split * (512 - b.touched) * 4)
        #expect(r.ok)
    }

    @Test func splitRunReportsWhatCameBack() throws {
        let r = try Fixture.result("result-bloat-split-6.18.json", as: RegionResult.self)
        let text = RegionTextReport.render(r)
        #expect(text.contains("shrinker: split 4 THP(s) (expected 4), gave back 7M; 1792 subpage(s) now on the zero page"))
        #expect(text.contains("thp_underused_split_page +4"))
        #expect(text.contains("so: 4/4 extents huge, each for 1792k of zeros beside 256k of data; under pressure the shrinker took 7M back"))
    }

    @Test func defaultRunSaysTheShrinkerIsOff() throws {
        let r = try Fixture.result("result-bloat-6.18.json", as: RegionResult.self)
        let text = RegionTextReport.render(r)
        #expect(text.contains("max_ptes_none=511 (the default) turns the shrinker off"))
        #expect(text.contains("kept under pressure (max_ptes_none=511 turns the shrinker off)"))
    }

    @Test(arguments: [
        (["khugepaged/max_ptes_none": "511", "shrink_underused": "1"], 64, 0, nil, "no THP, no cost: khugepaged needs 1 of 512"),
        (["khugepaged/max_ptes_none": "256", "shrink_underused": "1"], 64, 4, 7168, "the shrinker took 7M back"),
        (["khugepaged/max_ptes_none": "256"], 64, 4, 0, "no underused-THP shrinker on this kernel"),
        (["khugepaged/max_ptes_none": "256", "shrink_underused": "0"], 64, 4, 0, "shrink_underused=0 keeps them whole"),
        (["khugepaged/max_ptes_none": "256", "shrink_underused": "1"], 400, 4, 0, "kept under pressure (112 zeros, not above max_ptes_none=256)"),
    ] as [([String: String], Int, Int, Int?, String)])
    func sentenceSaysWhatThePointBuysAndCosts(knobs: [String: String], touched: Int, collapsed: Int, returned: Int?, says: String) {
        let s = BloatTextReport.sentence(knobs: knobs, touched: touched, collapsed: collapsed, total: 4,
                                         addedKB: collapsed * (512 - touched) * 4, returnedKB: returned, trigger: .khugepaged)
        #expect(s.contains(says), "\(s)")
    }

    @Test func ownCgroupFromProcSelfCgroup() throws {
        let text = try Fixture.text("proc-self-cgroup-6.18.txt")
        #expect(MemoryCgroup.ownPath(cgroupText: text, version: .v1)?.hasPrefix("/") == true)
        #expect(MemoryCgroup.ownPath(cgroupText: text, version: .v2) == "/")
        #expect(MemoryCgroup.ownPath(cgroupText: "0::/user.slice/a.scope\n", version: .v1) == nil)
    }

    /// The saved 6.18 run of `run shared`: more shared pages than
    /// max_ptes_shared, and every extent refused with exceed_shared_pte.
    @Test func sharedRunIsRefusedWithExceedSharedPte() throws {
        let r = try Fixture.result("result-shared-6.18.json", as: RegionResult.self)
        #expect(r.collapsed == 0 && r.expectedCollapsed == 0 && r.ok)
        for e in r.extents { #expect(e.diagnosis?.lastScanResult == "exceed_shared_pte") }
        let c = ExpectationContext(kernel: KernelVersion(6, 18), backing: .anon, trigger: .khugepaged, readOnlyThpForFS: false, shmemHuge: nil)
        var o = r.options
        for (shared, limit, collapsed) in [(384, 256, 0), (256, 256, 4), (257, 256, 0), (384, 400, 4)] {
            o.own.shared = shared
            #expect(RegionExperiment.expectation(o, context: c, maxPtesNone: 511, maxPtesShared: limit).0 == collapsed)
        }
    }

    /// No memory controller mounted: exit 3, saying what to mount. The
    /// host's own /proc/mounts (cgroup v1 with memory) and a 6.12 guest's
    /// (cgroup2 offering memory) pass.
    @Test func bloatNeedsAMemoryController() throws {
        let none = try Fixture.text("mounts-6.18.txt").split(separator: "\n").filter { !$0.contains("cgroup") }.joined(separator: "\n")
        let e = #expect(throws: THPLabError.self) { try BloatScenario.requireMemoryCgroup(mountsText: none, controllers: { _ in nil }) }
        #expect(e?.exitCode == 3)
        #expect(e?.message.contains("mounts no memory controller") == true)
        #expect(throws: Never.self) { try BloatScenario.requireMemoryCgroup(mountsText: try Fixture.text("mounts-cgroup-v1-6.18.txt")) }
        #expect(throws: Never.self) {
            try BloatScenario.requireMemoryCgroup(mountsText: try Fixture.text("mounts-cgroup-v2-guest-6.12.txt"), controllers: { _ in "cpu io memory pids" })
        }
    }

    @Test func untouchedExtentsHaveNothingToCollapse() {
        var o = RegionOptions(scenario: .bloat)
        o.present = 0
        for trigger in Trigger.allCases {
            o.trigger = trigger
            let c = ExpectationContext(kernel: KernelVersion(6, 18), backing: .anon, trigger: trigger, readOnlyThpForFS: false, shmemHuge: nil)
            #expect(RegionExperiment.expectation(o, context: c, maxPtesNone: 511).0 == 0)
        }
    }
}

/// The saved 6.18 `sweep bloat`: its checks, its table, its sentences and
/// its trade-off chart.
@Suite struct BloatSweepTests {
    @Test func savedSweepHoldsTheRulesAndSaysWhatEachPointCosts() throws {
        let r = try Fixture.result("result-sweep-bloat-6.18.json", as: SweepResult.self)
        #expect(r.points.count == 12 && r.ok)
        let names = Set(r.checks.map { $0.name }), held = r.checks.allSatisfy { $0.held }
        #expect(names == ["max_ptes_none rule", "shrinker rule"] && held)
        for p in r.points {
            let b = try #require(p.bloat)
            #expect(b.addedKB == p.collapsed * (512 - b.touched) * 4, "\(p.knobs)")
            let held = Sweep.builtInChecks(scenario: .bloat, axes: r.axes, points: [p]).allSatisfy { $0.held }
            #expect(held, "\(p.knobs)")
        }
        let text = SweepTextReport.render(r)
        #expect(text.contains("ZEROS ADDED  GIVEN BACK  SPLIT (expected)  FULL"), "time to collapse beside the memory")
        #expect(text.contains("max_ptes_none=511 touched=64: 4/4 extents huge, each for 1792k of zeros beside 256k of data"))
        #expect(text.contains("max_ptes_none=0 touched=448: no THP, no cost: khugepaged needs 512 of 512 pages touched, these have 448"))
        let html = HTMLSweep.render(r)
        #expect(html.contains("Coverage won against memory added") && html.contains("What each point buys and costs"))
    }

    /// A point whose shrinker split other THPs than the rule says fails the check.
    @Test func shrinkerCheckCanFail() throws {
        var r = try Fixture.result("result-sweep-bloat-6.18.json", as: SweepResult.self)
        r.points[0].bloat?.split = 4
        let check = Sweep.builtInChecks(scenario: .bloat, axes: r.axes, points: r.points).first { $0.name == "shrinker rule" }
        #expect(check?.held == false)
    }
}
