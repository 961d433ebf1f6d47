import Foundation
import Testing
@testable import THPLab

@Suite struct PerSizeStatsTests {
    @Test func parsesEverySizeOfTheRealStatsDirectories() throws {
        let s = PerSizeStats.parse(grepOutput: try Fixture.text("per-size-stats-6.18.txt"))
        #expect(s.sortedSizes == [8, 16, 32, 64, 128, 256, 512, 1024, 2048])
        #expect(s.sizes[64]?.count == 18)
        // shmem's 8 kB size has no anonymous counters: absent, not zero.
        #expect(s.sizes[8]?.count == 11)
        #expect(s.sizes[8]?.keys.contains { $0.hasPrefix("anon_") || $0.hasPrefix("nr_anon") } == false)
        #expect(s[8, "anon_fault_alloc"] == nil)
        #expect(s[64, "anon_fault_alloc"] != nil)
    }

    @Test func deltaKeepsOnlyCountersPresentOnBothSides() {
        let before = PerSizeStats(sizes: [64: ["swpout": 3, "split": 1], 16: ["swpout": 0]])
        let after = PerSizeStats(sizes: [64: ["swpout": 10, "split": 1, "zswpout": 4], 32: ["swpout": 2]])
        let d = after.delta(since: before)
        #expect(d.sizes == [64: ["swpout": 7, "split": 0]])
        #expect(d.nonZero.sizes == [64: ["swpout": 7]])
    }

    @Test func encodesSizesAsStringKeysAndReadsThemBack() throws {
        let s = PerSizeStats(sizes: [64: ["swpout": 7], 2048: ["anon_fault_alloc": 1]])
        let json = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
        #expect(json.contains("\"64\""))
        #expect(try JSONDecoder().decode(PerSizeStats.self, from: Data(json.utf8)) == s)
    }

    @Test func tableMarksACounterTheSizeLacksWithADash() throws {
        var s = PerSizeStats.parse(grepOutput: try Fixture.text("per-size-stats-6.18.txt"))
        s.sizes[8]!["shmem_alloc"] = 5
        s.sizes[64]!["anon_fault_alloc"] = 3
        let g = try #require(PerSizeTable.grid(s, movedOnly: true))
        let column = try #require(g.header.firstIndex(of: "anon_fault_alloc"))
        let row8 = try #require(g.rows.first { $0[0] == "8k" })
        #expect(row8[column] == "-")
        #expect(g.rows.first { $0[0] == "64k" }?[column] == "+3")
    }

    @Test func aResultFromBeforePerSizeCountersHasNone() throws {
        let r = try Fixture.result("result-retract-madvise-memfd-6.1.json", as: RetractResult.self)
        #expect(r.deltas.perSize == nil)
        #expect(PerSizeTable.lines(r.deltas.perSize, title: "t", movedOnly: true).joined().contains("6.9"))
    }
}

@Suite struct MthpLayoutTests {
    static let base: UInt = 0x7f00_0000_0000

    @Test func misalignedAnonymousVMAGetsTheLargestSizeWhereItsBlockFits() {
        // Measured on 6.18: 1 MiB at +4 kB with 64k and 16k allowed.
        let e = MthpLayout.expected(start: Self.base + 4096, length: 1 << 20, fileOffset: nil, allowedKB: [16, 64])
        #expect(e == [64: 240, 16: 12, 4: 4])
        #expect(FolioSizes.describe(e) == "64k x15, 16k x3, 4k x4")
    }

    @Test func shmemAddressNotCongruentToTheOffsetGetsBasePagesOnly() {
        let e = MthpLayout.expected(start: Self.base + 4096, length: 1 << 20, fileOffset: 0, allowedKB: [64, 16])
        #expect(e == [4: 256])
        #expect(MthpLayout.excluded(sizeKB: 16, start: Self.base + 4096, length: 1 << 20, fileOffset: 0)?.contains("congruent") == true)
        // Congruent again (offset 4k at +4k): the anonymous layout.
        #expect(MthpLayout.expected(start: Self.base + 4096, length: 1 << 20, fileOffset: 4096, allowedKB: [64, 16]) == [64: 240, 16: 12, 4: 4])
    }

    @Test func aVMATooSmallForASizeNeverGetsIt() {
        #expect(MthpLayout.expected(start: Self.base, length: 48 << 10, fileOffset: nil, allowedKB: [2048, 64, 16]) == [16: 12])
        #expect(MthpLayout.excluded(sizeKB: 64, start: Self.base, length: 48 << 10, fileOffset: nil) == "larger than the VMA (48k)")
        #expect(MthpLayout.excluded(sizeKB: 16, start: Self.base, length: 48 << 10, fileOffset: nil) == nil)
        // 64 kB long but not 64 kB aligned: no aligned block inside.
        #expect(MthpLayout.excluded(sizeKB: 64, start: Self.base + 16384, length: 64 << 10, fileOffset: nil) == "no 64k-aligned block inside the VMA")
    }

    @Test func pmdSizeComesFirstWhereItFits() {
        #expect(MthpLayout.expected(start: Self.base, length: 2 << 20, fileOffset: nil, allowedKB: [16, 2048, 64]) == [2048: 512])
        #expect(MthpLayout.expected(start: Self.base, length: 2 << 20, fileOffset: nil, allowedKB: []) == [4: 512])
    }

    @Test func seenFoldsClassesBySize() {
        var c = ClassCounts()
        c.small = 4
        c.pmd = 512
        c.mthpSizes = ["64": 240, "16": 12]
        #expect(MthpLayout.seen(c) == [4: 4, 2048: 512, 64: 240, 16: 12])
    }
}

@Suite struct MthpPolicyTests {
    static func knobs(_ pairs: [String: String]) -> [String: SysfsValue] { pairs.mapValues { SysfsValue.parse($0) } }

    @Test func inheritResolvesToTheGlobalKnob() {
        let p = MthpPolicies(knobs: Self.knobs(["enabled": "madvise", "hugepages-2048kB/enabled": "inherit", "hugepages-16kB/enabled": "always",
                                                 "shmem_enabled": "force", "hugepages-2048kB/shmem_enabled": "inherit",
                                                 "hugepages-8kB/shmem_enabled": "never"]))
        #expect(p.effective(.anon, sizeKB: 2048) == "madvise")
        #expect(p.allowed(.anon, advised: false) == [16])
        #expect(p.allowed(.anon, advised: true) == [2048, 16])
        #expect(p.effective(.shmem, sizeKB: 2048) == "always")
        #expect(p.offered(.anon) == [16, 2048])
        #expect(p.offered(.shmem) == [8, 2048])
        #expect(p.summary(.anon) == "16k=always 2M=inherit(madvise)")
    }

    @Test func shmemDenyMeansNeverAndAdviseNeedsMadvise() {
        let p = MthpPolicies(knobs: Self.knobs(["shmem_enabled": "deny", "hugepages-2048kB/shmem_enabled": "inherit",
                                                 "hugepages-64kB/shmem_enabled": "advise", "hugepages-16kB/shmem_enabled": "within_size"]))
        #expect(p.allowed(.shmem, advised: false) == [16])
        #expect(p.allowed(.shmem, advised: true) == [64, 16])
    }

    @Test func defaultsNameOnlySizesTheKernelOffers() {
        let p = MthpPolicies(knobs: Self.knobs(["enabled": "madvise", "hugepages-64kB/enabled": "never", "hugepages-2048kB/enabled": "inherit"]))
        #expect(MthpOptions.defaults(offered: p) == ["hugepages-64kB/enabled=madvise"])
    }

    /// The PMD size keeps the host's policy, even where it is refused with
    /// MADV_HUGEPAGE (the fallback step allows it for itself alone).
    @Test func defaultsLeaveThePMDSizeAlone() {
        let host = MthpPolicies(knobs: Self.knobs(["enabled": "never", "shmem_enabled": "never", "hugepages-2048kB/enabled": "inherit",
                                                    "hugepages-2048kB/shmem_enabled": "inherit", "hugepages-16kB/enabled": "never",
                                                    "hugepages-16kB/shmem_enabled": "never"]))
        #expect(MthpOptions.defaults(offered: host) == ["hugepages-16kB/enabled=always", "hugepages-16kB/shmem_enabled=always"])
    }

    /// The fallback step's room: less than the largest size even with the
    /// per-CPU stock (a 256 kB charge batch) given back, yet a batch and
    /// the next size; none where no limit does both.
    @Test func fallbackRoomRefusesTheLargestSizeButAdmitsTheNext() {
        #expect(MthpSteps.fallbackRoomKB(largest: 2048, next: 64) == 1728)
        #expect(MthpSteps.fallbackRoomKB(largest: 2048, next: nil) == 1728)
        #expect(MthpSteps.fallbackRoomKB(largest: 1024, next: 512) == 704)
        #expect(MthpSteps.fallbackRoomKB(largest: 512, next: 64) == nil)
        #expect(MthpSteps.fallbackRoomKB(largest: 64, next: 16) == nil)
    }

    @Test func noPerSizeFilesExitsThreeNamingTheRelease() throws {
        let none = MthpPolicies(knobs: Self.knobs(["enabled": "always"]))
        #expect(throws: THPLabError.self) { try MthpExperiment.supported([.anon, .shmem], policies: none, kernel: "6.1.0") }
        do {
            _ = try MthpExperiment.supported([.anon], policies: none, kernel: "6.1.0")
        } catch let e as THPLabError {
            #expect(e.kind == .unsupported)
            #expect(e.message.contains("6.8"))
        }
        // Anonymous sizes without shmem ones (6.8 to 6.10): shmem is skipped with a note.
        let anonOnly = MthpPolicies(knobs: Self.knobs(["hugepages-64kB/enabled": "never"]))
        let (run, notes) = try MthpExperiment.supported([.anon, .shmem], policies: anonOnly, kernel: "6.9.0")
        #expect(run == [.anon])
        #expect(notes.count == 1 && notes[0].contains("6.11") && notes[0].contains("skipped"))
    }

    @Test(arguments: ["enabled=always", "max_ptes_none=0", "hugepages-64kB", "hugepages-64kB/enabled"])
    func optionsRefuseAnythingButAPerSizePolicy(knob: String) {
        var o = MthpOptions()
        o.knobs = [knob]
        #expect(throws: THPLabError.self) { try o.validate() }
    }
}

@Suite struct MthpSwapRuleTests {
    @Test func rotationalDevicesSplitAndZramTakesFoliosWhole() {
        let k618 = KernelVersion(6, 18), k612 = KernelVersion(6, 12)
        #expect(MthpSwapRule(memory: .anon, rotational: false, kernel: k612).counter == "swpout")
        #expect(MthpSwapRule(memory: .anon, rotational: true, kernel: k618).counter == "swpout_fallback")
        #expect(MthpSwapRule(memory: .shmem, rotational: true, kernel: k618).counter == "split")
        // Not measured: shown, not judged.
        #expect(MthpSwapRule(memory: .anon, rotational: true, kernel: k612).counter == nil)
        #expect(MthpSwapRule(memory: .anon, rotational: nil, kernel: k618).counter == nil)
    }
}

@Suite struct MthpResultTests {
    static let fixtures = ["result-mthp-6.18.json", "result-mthp-6.12.json"]

    /// Every fault step of the real runs, re-judged by today's model: the
    /// sizes the kernel gave are the layout the model computes.
    @Test(arguments: fixtures)
    func savedFaultStepsAreWhatTheModelComputes(name: String) throws {
        let r = try Fixture.result(name, as: MthpResult.self)
        let faults = r.steps.filter { $0.phase == .fault }
        #expect(faults.count == 10)
        for s in faults {
            let model = MthpLayout.expected(start: s.start, length: s.lengthKB * 1024, fileOffset: s.fileOffset, allowedKB: s.allowedKB)
            #expect(MthpSteps.keyed(model) == s.seen, "\(s.memory) \(s.label)")
        }
        // The run shows more than one size, and a PMD-sized folio or an mTHP in each memory.
        let sizes = Set(faults.flatMap { $0.seen.keys })
        #expect(sizes.isSuperset(of: ["16", "64", "4"]))
    }

    @Test(arguments: fixtures)
    func savedRunsReadBackAndRender(name: String) throws {
        let any = try ResultFile.read(Fixture.path(name))
        guard case .mthp(let r) = any else { Issue.record("not an mthp result"); return }
        #expect(r.ok)
        let text = MthpTextReport.render(r)
        #expect(text.contains("fault offset"))
        #expect(text.contains("RESULT: every expectation met"))
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 200 })
        let html = HTMLReport.render([(name, any)])
        #expect(html.contains("run mthp") && html.contains("Per-size counters"))
        #expect(Behaviour.rows(any)?.count == r.steps.count)
    }

    @Test func partialUnmapCountsTwoPartlyMappedFoliosOn618() throws {
        let r = try Fixture.result("result-mthp-6.18.json", as: MthpResult.self)
        let p = try #require(r.steps.first { $0.phase == .partial && $0.memory == .anon })
        #expect(p.checks.map(\.counter) == ["nr_anon_partially_mapped", "split_deferred"])
        #expect(p.checks.allSatisfy { $0.holds == true })
        let shmem = try #require(r.steps.first { $0.phase == .partial && $0.memory == .shmem })
        #expect(shmem.checks.isEmpty)
    }
}

/// mTHP by folio size in snapshots, diffs, CSV and the HTML extent map, on
/// a real process (4 MiB anonymous at +4 kB under 64k and 16k always),
/// before and after `thplab collapse` of its first extent.
@Suite struct MthpSnapshotTests {
    func load(_ name: String) throws -> SnapshotResult { try Fixture.result(name, as: SnapshotResult.self) }

    @Test func textShowsTheSizesPerVMAAndPerExtent() throws {
        let s = try load("snapshot-mthp-before-6.18.json")
        let text = SnapshotTextReport.render(s)
        #expect(text.contains("4080k (64k x63, 16k x3)"), "\(text)")
        var o = SnapshotTextReport.Options()
        o.extents = true
        #expect(SnapshotTextReport.render(s, o).contains("mthp 508 (64k x31, 16k x3)"))
    }

    @Test func csvCarriesTheSizesInTheLastColumn() throws {
        let csv = try CSVReport.render(.snapshot(try load("snapshot-mthp-before-6.18.json"))).split(separator: "\n")
        #expect(csv[0].hasSuffix(",cgroup,mthp_by_size_kb"))
        #expect(csv.contains { $0.hasSuffix(",64:4032;16:48") })
    }

    @Test func diffSeesTheCollapseAndTheSizesThatLeft() throws {
        let d = SnapshotDiff.diff(before: try load("snapshot-mthp-before-6.18.json"), after: try load("snapshot-mthp-after-6.18.json"))
        let v = try #require(d.processes.first?.vmas.first { $0.change == "became huge" })
        #expect(v.mthpBeforeKB == ["64": 4032, "16": 48])
        #expect(v.mthpAfterKB == ["64": 1984, "16": 48])
        #expect(DiffTextReport.render(d).contains("64k:4032k 16k:48k -> 64k:1984k 16k:48k"))
    }

    @Test func extentMapColoursMthpBySize() throws {
        let html = HTMLReport.render([("s.json", .snapshot(try load("snapshot-mthp-before-6.18.json")))])
        #expect(html.contains("fill=\"\(HTML.mthpColor(sizeKB: 64))\""))
        #expect(html.contains("mTHP by size:"))
        #expect(HTML.mthpColor(sizeKB: 16) != HTML.mthpColor(sizeKB: 64))
        #expect(HTML.mthpColor(sizeKB: 8) == HTML.mthpScale[0] && HTML.mthpColor(sizeKB: 1024) == HTML.mthpScale.last)
    }
}

/// `explain`'s per-VMA folio sizes: which a fault may give now, and why not.
@Suite struct SizeVerdictTests {
    static let values = ["enabled": "madvise", "hugepages-2048kB/enabled": "inherit", "hugepages-64kB/enabled": "always",
                         "hugepages-16kB/enabled": "always", "hugepages-32kB/enabled": "never",
                         "shmem_enabled": "never", "hugepages-64kB/shmem_enabled": "always", "hugepages-8kB/shmem_enabled": "never"]

    @Test func reasonsInTheKernelsOrder() {
        let p = MthpPolicies(values: Self.values)
        let base: UInt = 0x7f00_0000_0000
        let plain = p.verdicts(.anon, start: base, length: 1 << 20, fileOffset: nil, advised: false, noHugepage: false, processDisabled: false)
        #expect(plain.map(\.sizeKB) == [2048, 64, 32, 16])
        #expect(plain.filter(\.allowed).map(\.sizeKB) == [64, 16])
        #expect(plain[0].why == "policy madvise and no MADV_HUGEPAGE")
        #expect(SizeVerdict.describe(plain) == "may get 64k 16k; not 2M (policy madvise and no MADV_HUGEPAGE), 32k (policy never)")
        let advised = p.verdicts(.anon, start: base, length: 1 << 20, fileOffset: nil, advised: true, noHugepage: false, processDisabled: false)
        #expect(advised[0].why == "larger than the VMA (1M)")
        let nh = p.verdicts(.anon, start: base, length: 2 << 20, fileOffset: nil, advised: true, noHugepage: true, processDisabled: false)
        #expect(nh.allSatisfy { !$0.allowed && $0.why == "MADV_NOHUGEPAGE" })
        let prctl = p.verdicts(.anon, start: base, length: 2 << 20, fileOffset: nil, advised: true, noHugepage: true, processDisabled: true)
        #expect(prctl.allSatisfy { $0.why.hasPrefix("prctl") })
        let shmem = p.verdicts(.shmem, start: base + 4096, length: 1 << 20, fileOffset: 0, advised: false, noHugepage: false, processDisabled: false)
        #expect(shmem.first { $0.sizeKB == 64 }?.why == "address not congruent to the file offset modulo 64k")
    }

    @Test func explainGivesEachAnonymousVMAItsSizes() throws {
        let s = try Fixture.result("snapshot-mthp-before-6.18.json", as: SnapshotResult.self)
        let v = try #require(s.processes[0].vmas.max { $0.pages.mthp < $1.pages.mthp })
        let ctx = Explainer.Context(knobs: Self.values, readOnlyThpForFS: nil, mountHuge: { _ in nil })
        let e = Explainer.explain(v, ctx)
        #expect(e.sizes?.filter(\.allowed).map(\.sizeKB) == [64, 16])
        // A regular file's folios come from its filesystem: no verdicts.
        let file = try #require(s.processes[0].vmas.first { $0.kind == .file })
        #expect(Explainer.explain(file, ctx).sizes == nil)
    }
}

@Suite struct MthpSweepTests {
    @Test func savedSweepHoldsItsChecksAndFailsADoctoredPoint() throws {
        let r = try Fixture.result("result-mthp-sweep-6.18.json", as: MthpSweepResult.self)
        #expect(r.points.count == 4)
        let held = MthpSweep.checks(r.points).allSatisfy { $0.held }
        #expect(held)
        var points = r.points
        let i = try #require(points[0].steps.firstIndex { $0.label == "plain" })
        points[0].steps[i].seen = ["32": 256]
        let checks = MthpSweep.checks(points)
        #expect(checks.first { $0.name == "sizes seen are allowed" }?.held == false)
        #expect(checks.first { $0.name == "largest fitting size first" }?.held == false)
    }

    @Test func sweepRendersAsATableAndAChartOfSizesByPolicy() throws {
        let any = try ResultFile.read(Fixture.path("result-mthp-sweep-6.18.json"))
        guard case .mthpSweep(let r) = any else { Issue.record("not an mthp sweep"); return }
        let text = MthpSweepTextReport.render(r)
        #expect(text.contains("64kB/enabled") && text.contains("64k x16"))
        let html = HTMLReport.render([("s.json", any)])
        #expect(html.contains("class=\"folio-bars\"") && html.contains(HTML.mthpColor(sizeKB: 64)))
    }
}

@Suite struct PerSizeCSVTests {
    @Test func mthpRunIsOneRowPerStepAndSize() throws {
        let csv = try CSVReport.render(try ResultFile.read(Fixture.path("result-mthp-6.18.json"))).split(separator: "\n")
        #expect(csv[0].hasPrefix("phase,memory,label,start,length_kb,advised,size_kb,seen_kb,expected_kb,ok"))
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let alloc = try #require(header.firstIndex(of: "anon_fault_alloc"))
        let row = try #require(csv.first { $0.hasPrefix("fault,anon,advised,") && $0.contains(",64,1024,1024,true") })
        let cells = row.split(separator: ",", omittingEmptySubsequences: false)
        #expect(Int(cells[alloc]).map { $0 >= 16 } == true)
    }

    @Test func sweepRowsStartWithTheKnobs() throws {
        let csv = try CSVReport.render(try ResultFile.read(Fixture.path("result-mthp-sweep-6.18.json"))).split(separator: "\n")
        #expect(csv[0].hasPrefix("hugepages-64kB/enabled,hugepages-2048kB/enabled,phase,"))
        #expect(csv.contains { $0.hasPrefix("always,inherit,fault,anon,pmd,") && $0.contains(",2048,2048,2048,true") })
    }

    @Test func runResultsGiveTheirPerSizeDeltas() throws {
        var counters = SystemCounters(vmstat: [:], meminfo: [:], khugepaged: [:])
        counters.perSize = PerSizeStats(sizes: [64: ["swpout": 16, "split": 0], 8: ["split": 1]])
        #expect(CSVReport.perSize(counters.perSize) == "size_kb,split,swpout\n8,1,\n64,0,16\n")
    }
}

/// A tmpfs mount's huge= as measured on 6.1, 6.12 and 6.18: faults get the
/// PMD size where it fits (6.1 under always: whatever the VMA), writes a
/// PMD-sized folio under always and, on 6.18, a folio of the write's size
/// under within_size.
@Suite struct TmpfsRuleTests {
    let k61 = KernelVersion(6, 1), k612 = KernelVersion(6, 12), k618 = KernelVersion(6, 18)

    @Test func writesBySettingAndKernel() {
        #expect(TmpfsRule.write(huge: .always, kernel: k61, sizeKB: 64).expected == [2048: 16])
        #expect(TmpfsRule.write(huge: .within_size, kernel: k618, sizeKB: 1024).expected == [1024: 256])
        #expect(TmpfsRule.write(huge: .within_size, kernel: k612, sizeKB: 1024).expected == [4: 256])
        #expect(TmpfsRule.write(huge: .within_size, kernel: k618, sizeKB: 48).expected == [4: 12], "not a folio size")
        #expect(TmpfsRule.write(huge: .advise, kernel: k618, sizeKB: 64).expected == [4: 16])
    }

    @Test func faultsBySettingAndKernel() {
        let start: UInt = 0x7f00_0000_0000
        func f(_ h: TmpfsHuge, _ k: KernelVersion, kb: Int, advised: Bool = false) -> [Int: Int] {
            TmpfsRule.fault(huge: h, kernel: k, start: start, length: kb << 10, advised: advised, allowedKB: [2048]).expected
        }
        #expect(f(.always, k61, kb: 1024) == [2048: 256])
        #expect(f(.always, k612, kb: 1024) == [4: 256])
        #expect(f(.within_size, k61, kb: 2048) == [2048: 512])
        #expect(f(.within_size, k61, kb: 1024) == [4: 256])
        #expect(f(.within_size, k61, kb: 48, advised: true) == [2048: 12], "6.1: within_size falls through to advise")
        #expect(f(.within_size, k618, kb: 48, advised: true) == [4: 12])
    }

    @Test func policiesOfferTheMountsPMDSizeOnly() {
        var p = MthpPolicies(values: ["shmem_enabled": "never", "hugepages-64kB/shmem_enabled": "always"])
        #expect(p.offered(.tmpfs).isEmpty, "no tmpfs in the run")
        p.tmpfsHuge = "advise"
        #expect(p.offered(.tmpfs) == [2048])
        #expect(p.allowed(.tmpfs, advised: false).isEmpty && p.allowed(.tmpfs, advised: true) == [2048])
        p.shmemGlobal = "deny"
        #expect(p.allowed(.tmpfs, advised: true).isEmpty, "deny overrides every mount")
        #expect(p.summary(.tmpfs).hasPrefix("huge=advise"))
    }
}
