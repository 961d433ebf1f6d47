import Foundation
import Testing
@testable import THPLab

@Suite struct MappingStateTests {
    @Test(arguments: [
        (0, 0, 0, MappingState.notResident),
        (4096, 0, 4096, .pmdMapped),
        (4096, 0, 0, .pteMapped),
        (4096, 0, 2048, .pteMapped),      // one extent PMD, one on PTEs
        (4, 4, 0, .pteMapped),            // only the copy-on-write page
        (2052, 4, 2048, .pmdMapped),      // anon page elsewhere, file part all PMD
    ])
    func classify(rss: Int, anon: Int, pmd: Int, state: MappingState) {
        #expect(MappingState.classify(rssKB: rss, anonKB: anon, pmdMappedKB: pmd) == state)
    }
}

@Suite struct ExpectationModelTests {
    func ctx(_ v: KernelVersion, _ b: Backing = .memfd, _ t: Trigger = .madvise, rothp: Bool? = false,
             huge: ShmemHuge? = .never, times: Int = 2) -> ExpectationContext {
        ExpectationContext(kernel: v, backing: b, trigger: t, readOnlyThpForFS: rothp, shmemHuge: huge, madviseTimes: times)
    }

    @Test(arguments: [Trigger.madvise, .khugepaged])
    func modernKernelRetractsEverywhereButWrittenAndMisaligned(trigger: Trigger) {
        let c = ctx(KernelVersion(6, 18), .memfd, trigger, huge: trigger == .khugepaged ? .advise : .never)
        for inTrigger in [true, false] {
            #expect(ExpectationModel.expect(role: .shared, inTriggerProcess: inTrigger, isTriggerMapping: false, c).state == .pmdMapped)
            #expect(ExpectationModel.expect(role: .privateClean, inTriggerProcess: inTrigger, isTriggerMapping: false, c).state == .pmdMapped)
            #expect(ExpectationModel.expect(role: .privateWritten, inTriggerProcess: inTrigger, isTriggerMapping: false, c).state == .pteMapped)
            #expect(ExpectationModel.expect(role: .misaligned, inTriggerProcess: inTrigger, isTriggerMapping: false, c).state == .pteMapped)
        }
        #expect(ExpectationModel.collapseBlocker(c) == nil)
    }

    @Test func before66TheCallingProcessKeepsItsPTEs() {
        let c = ctx(KernelVersion(6, 1))
        let own = ExpectationModel.expect(role: .privateClean, inTriggerProcess: true, isTriggerMapping: false, c)
        #expect(own.state == .pteMapped)
        // Before 6.6 retract_page_tables() under MADV_COLLAPSE tries only
        // the target range and queues the rest for khugepaged.
        #expect(own.rule.contains("khugepaged_add_pte_mapped_thp"))
        #expect(ExpectationModel.expect(role: .shared, inTriggerProcess: true, isTriggerMapping: true, c).state == .pmdMapped)
        // Other processes: MADV_COLLAPSE retracts nothing there before 6.6;
        // khugepaged does, through mmap_write_trylock().
        #expect(ExpectationModel.expect(role: .shared, inTriggerProcess: false, isTriggerMapping: false, c).state == .pteMapped)
        let k = ctx(KernelVersion(6, 1), .memfd, .khugepaged, huge: .advise)
        #expect(ExpectationModel.expect(role: .privateClean, inTriggerProcess: false, isTriggerMapping: false, k).state == .pmdMapped)
    }

    /// Real `run retract` results from Debian's 6.1 (in a virtme-ng guest):
    /// the model of that version must predict every mapping's final state.
    @Test(arguments: ["result-retract-madvise-memfd-6.1.json", "result-retract-khugepaged-memfd-6.1.json",
                      "result-retract-madvise-nohugepage-6.1.json"])
    func modelAgreesWithMeasured61(fixture: String) throws {
        let r = try Fixture.result(fixture, as: RetractResult.self)
        #expect(r.kernelRelease.hasPrefix("6.1."))
        let c = ctx(KernelVersion(release: r.kernelRelease)!, r.backing, r.trigger, huge: r.trigger == .khugepaged ? .advise : .never)
        let observed = r.mappings.map {
            ObservedMapping(role: $0.role, pid: $0.pid, start: $0.start, end: $0.end, inTriggerProcess: $0.inTriggerProcess, phases: $0.phases)
        }
        let (judged, differences) = RetractEvaluation.judge(observed, context: c)
        #expect(differences.isEmpty, "\(differences)")
        #expect(judged.count == r.mappings.count && judged.count >= 8)
    }

    /// Measured: 6.18 and 6.12 refault a MADV_NOHUGEPAGE mapping through
    /// PTEs; Debian's 6.1 through a PMD once khugepaged retracted its page
    /// table, and through its old PTEs after MADV_COLLAPSE, which retracts
    /// nothing outside its range before 6.6.
    @Test func nohugepageAtFaultSince612() {
        func state(_ k: KernelVersion, _ t: Trigger, own: Bool = false) -> MappingState {
            ExpectationModel.expect(role: .nohugepage, inTriggerProcess: own, isTriggerMapping: false, ctx(k, .memfd, t, huge: .advise)).state
        }
        for t in Trigger.allCases {
            #expect(state(KernelVersion(6, 18), t) == .pteMapped)
            #expect(state(KernelVersion(6, 12), t) == .pteMapped)
            #expect(state(KernelVersion(6, 11), t) == .pmdMapped)
        }
        #expect(state(KernelVersion(6, 1), .khugepaged) == .pmdMapped)
        for own in [true, false] { #expect(state(KernelVersion(6, 1), .madvise, own: own) == .pteMapped) }
    }

    @Test func uffdWpIsNeverRetracted() {
        for v in [KernelVersion(6, 1), KernelVersion(6, 18)] {
            for t in Trigger.allCases {
                #expect(ExpectationModel.expect(role: .uffdWp, inTriggerProcess: false, isTriggerMapping: false, ctx(v, .memfd, t, huge: .advise)).state == .pteMapped)
            }
        }
    }

    @Test func fileWithoutReadOnlyThpNeverCollapses() {
        for t in Trigger.allCases {
            let c = ctx(KernelVersion(6, 18), .file, t, rothp: false, huge: nil)
            #expect(ExpectationModel.collapseBlocker(c)?.contains("CONFIG_READ_ONLY_THP_FOR_FS") == true)
            for role in MappingRole.allCases {
                #expect(ExpectationModel.expect(role: role, inTriggerProcess: true, isTriggerMapping: role == .shared, c).state == .pteMapped)
            }
        }
        #expect(ExpectationModel.collapseCallSucceeds(ctx(KernelVersion(6, 18), .file, huge: nil)).state == .pteMapped)
    }

    @Test func hugeNeverBlocksKhugepagedOnly() {
        let k = ctx(KernelVersion(6, 18), .shm, .khugepaged, huge: .never)
        #expect(ExpectationModel.collapseBlocker(k)?.contains("huge=") == true)
        let m = ctx(KernelVersion(6, 18), .shm, .madvise, huge: .never)
        #expect(ExpectationModel.collapseBlocker(m) == nil)
        #expect(ExpectationModel.collapseCallSucceeds(m).state == .pmdMapped)
    }

    /// Measured: a memfd's MADV_COLLAPSE ignores hugepages-2048kB/shmem_enabled
    /// on 6.12 and obeys it on 6.18 (never, or advise without MADV_HUGEPAGE:
    /// EINVAL; inherit and within_size collapse). Anonymous memory and
    /// tmpfs files are not concerned.
    @Test func memfdCollapseObeysThePMDSizesPolicySince618() {
        for (kernel, policy, refused) in [(KernelVersion(6, 12), SizeShmemPolicy.never, false), (KernelVersion(6, 18), .never, true),
                                          (KernelVersion(6, 18), .advise, true), (KernelVersion(6, 18), .inherit, false),
                                          (KernelVersion(6, 18), .within_size, false)] {
            var m = ctx(kernel, .memfd, .madvise, huge: .never)
            m.shmemPmdPolicy = policy
            #expect((ExpectationModel.collapseCallSucceeds(m).state == .pteMapped) == refused, "\(kernel) \(policy)")
            #expect((ExpectationModel.collapseBlocker(m) != nil) == refused, "\(kernel) \(policy)")
            m.backing = .shm
            #expect(ExpectationModel.collapseCallSucceeds(m).state == .pmdMapped)
        }
        #expect(MemfdCollapseRule.refusal(kernel: KernelVersion(6, 18), pmdPolicy: .advise, advised: true) == nil)
        #expect(MemfdCollapseRule.refusal(kernel: KernelVersion(6, 18), pmdPolicy: nil, advised: false) == nil)
    }

    @Test func denyBlocksEverything() {
        let m = ctx(KernelVersion(6, 18), .memfd, .madvise, huge: .deny)
        #expect(ExpectationModel.collapseBlocker(m) != nil)
        #expect(ExpectationModel.collapseCallSucceeds(m).state == .pteMapped)
    }

    @Test func singleMadviseUnderAdviseNeverRegisters() {
        #expect(ExpectationModel.collapseBlocker(ctx(KernelVersion(6, 18), .memfd, .khugepaged, huge: .advise, times: 1))?.contains("khugepaged_enter_vma") == true)
        #expect(ExpectationModel.collapseBlocker(ctx(KernelVersion(6, 18), .memfd, .khugepaged, huge: .always, times: 1)) == nil)
    }
}

@Suite struct KnobPlanTests {
    func knobs(_ pairs: [String: String]) -> [String: SysfsValue] { pairs.mapValues { SysfsValue(current: $0) } }

    @Test func populateTurnsOffFaultTimeHugePages() {
        let plan = KnobPlan.forPopulate(current: knobs(["shmem_enabled": "always", "hugepages-2048kB/shmem_enabled": "within_size",
                                                        "hugepages-64kB/shmem_enabled": "inherit", "enabled": "always"]))
        #expect(plan.map(\.name) == ["hugepages-2048kB/shmem_enabled", "shmem_enabled"])
        #expect(plan.allSatisfy { $0.value == "never" })
        #expect(KnobPlan.forPopulate(current: knobs(["shmem_enabled": "never"])).isEmpty)
        #expect(KnobPlan.forPopulate(current: knobs(["shmem_enabled": "advise"])).isEmpty)
    }

    @Test func anonymousPopulateAvoidsEnabledAlways() {
        let plan = KnobPlan.forAnonPopulate(current: knobs(["enabled": "always", "hugepages-2048kB/enabled": "inherit"]))
        #expect(plan.map(\.name) == ["enabled"])
        #expect(plan.first?.value == "madvise")
        #expect(KnobPlan.forAnonPopulate(current: knobs(["enabled": "madvise", "hugepages-2048kB/enabled": "always"])).map(\.value) == ["inherit"])
        #expect(KnobPlan.forAnonPopulate(current: knobs(["enabled": "madvise"])).isEmpty)
    }

    @Test func khugepagedFromBootDefaults() throws {
        let defaults = knobs(["khugepaged/scan_sleep_millisecs": "10000", "khugepaged/alloc_sleep_millisecs": "60000",
                              "khugepaged/pages_to_scan": "4096", "shmem_enabled": "never",
                              "hugepages-2048kB/shmem_enabled": "inherit"])
        let memfd = KnobPlan.forKhugepaged(current: defaults, backing: .memfd)
        #expect(Dictionary(uniqueKeysWithValues: memfd.map { ($0.name, $0.value) }) ==
                ["khugepaged/scan_sleep_millisecs": "10", "khugepaged/alloc_sleep_millisecs": "10", "shmem_enabled": "advise"])
        // A tmpfs follows its own huge= option: shmem_enabled is left alone.
        #expect(!KnobPlan.forKhugepaged(current: defaults, backing: .tmpfs).contains { $0.name == "shmem_enabled" })
        // Already fast: nothing to change.
        let fast = knobs(["khugepaged/scan_sleep_millisecs": "5", "khugepaged/alloc_sleep_millisecs": "1"])
        #expect(KnobPlan.forKhugepaged(current: fast, backing: .file).isEmpty)
    }

    /// Before 6.6 khugepaged would retract the mappings MADV_COLLAPSE
    /// queued for it, at some moment of the run: it is kept asleep.
    @Test func madviseCollapseHoldsKhugepagedOffOnlyBefore66() {
        let defaults = knobs(["khugepaged/scan_sleep_millisecs": "10000"])
        let old = KnobPlan.forMadviseCollapse(current: defaults, kernel: KernelVersion(6, 1))
        #expect(old.map(\.name) == ["khugepaged/scan_sleep_millisecs"])
        #expect(old.first.flatMap { Int($0.value) } ?? 0 >= 600_000)
        #expect(KnobPlan.forMadviseCollapse(current: defaults, kernel: KernelVersion(6, 6)).isEmpty)
        #expect(KnobPlan.forMadviseCollapse(current: defaults, kernel: KernelVersion(6, 18)).isEmpty)
        #expect(KnobPlan.forMadviseCollapse(current: knobs(["khugepaged/scan_sleep_millisecs": "900000"]), kernel: KernelVersion(6, 1)).isEmpty)
    }

    @Test func effectiveShmemHuge() {
        #expect(KnobPlan.effectiveShmemHuge(knobs: knobs(["shmem_enabled": "advise"]), backing: .memfd, mountHuge: nil) == .advise)
        #expect(KnobPlan.effectiveShmemHuge(knobs: knobs(["shmem_enabled": "advise"]), backing: .shm, mountHuge: "never") == .never)
        #expect(KnobPlan.effectiveShmemHuge(knobs: knobs(["shmem_enabled": "force"]), backing: .tmpfs, mountHuge: "never") == .force)
        #expect(KnobPlan.effectiveShmemHuge(knobs: knobs(["shmem_enabled": "force"]), backing: .file, mountHuge: nil) == nil)
    }
}

@Suite struct RetractOptionsTests {
    @Test func defaultsAreValid() throws {
        try RetractOptions().validate(room: MemoryRoom(kb: 8 << 20, source: "MemAvailable"))
        #expect(RetractOptions().specs.map(\.role) == [.shared, .privateClean, .privateWritten, .misaligned])
        var o = RetractOptions()
        o.nohugepage = true
        #expect(o.specs.last?.role == .nohugepage)
    }

    static func with(_ change: (inout RetractOptions) -> Void) -> RetractOptions {
        var o = RetractOptions()
        change(&o)
        return o
    }

    static let badOptions: [RetractOptions] = [
        with { $0.size = 0 },
        with { $0.size = 3 << 20 },             // not a multiple of 2 MiB
        with { $0.size = 64 << 30 },            // beyond the 8 GiB available below
        with { $0.processes = 0 },
        with { $0.processes = 65 },
        with { $0.cowPages = 1025 },            // beyond the 1024 pages of 4 MiB
        with { $0.cowPages = 0 },
        with { $0.timeoutSeconds = 0 },
        with { $0.backing = .file; $0.directory = "/nonexistent/thplab" },
        with { $0.madviseTimes = 3 },
        with { $0.tmpfsSize = 0 },
    ]

    @Test(arguments: badOptions)
    func rejectsBadInput(options: RetractOptions) {
        let error = #expect(throws: THPLabError.self) { try options.validate(room: MemoryRoom(kb: 8 << 20, source: "MemAvailable")) }
        #expect(error?.exitCode == 2)
    }

    @Test func noMisalignedDropsTheRole() {
        var o = RetractOptions()
        o.misaligned = false
        #expect(!o.specs.contains { $0.role == .misaligned })
    }
}

@Suite struct KnobValidationTests {
    @Test(arguments: ["../enabled", "/etc/passwd", "khugepaged/../../x", "nonsense", "khugepaged/full_scans", "hugepages-abckB/enabled"])
    func refusesNamesOutsideTheCatalogue(name: String) {
        let e = #expect(throws: THPLabError.self) { try THPSysfs(root: "/nonexistent").validate(name: name, value: "1") }
        #expect(e?.exitCode == 2)
    }

    @Test func catalogueAcceptsPerSizeKnobs() {
        #expect(THPSysfs.rule(for: "hugepages-2048kB/shmem_enabled") != nil)
        #expect(THPSysfs.rule(for: "khugepaged/max_ptes_none")?.range == 0...511)
    }
}

@Suite struct ResultTests {
    @Test func savedResultDecodesAndRenders() throws {
        let r = try Fixture.result("result-retract-khugepaged-memfd-6.18.json", as: RetractResult.self)
        #expect(r.scenario == ResultKind.retract.rawValue)
        #expect(r.trigger == .khugepaged)
        #expect(r.mappings.count == 8)
        #expect(r.mappings.allSatisfy { $0.phases.count == 3 })
        let text = RetractTextReport.render(r)
        for role in Set(r.mappings.map(\.role)) { #expect(text.contains(role.rawValue)) }
        #expect(text.contains("RESULT: every expectation met") == r.ok)
        // Round trip keeps the documented keys.
        let again = try JSONSerialization.jsonObject(with: Data(try ResultEnvelope.encode(r))) as? [String: Any]
        #expect(again?["schema_version"] as? Int == 1)
        #expect(again?["kind"] as? String == "retract", "the envelope names the kind")
        for key in ["kernel_release", "scenario", "trigger", "backing", "options", "ok", "knobs_before", "knobs_after", "deltas", "mappings"] {
            #expect(again?[key] != nil, "missing \(key)")
        }
        let m = (again?["mappings"] as? [[String: Any]])?.first
        for key in ["role", "pid", "start", "end", "expected_state", "met", "reason", "phases"] {
            #expect(m?[key] != nil, "missing mapping key \(key)")
        }
        let phase = (m?["phases"] as? [String: [String: Any]])?["refaulted"]
        for key in ["rss_kb", "anon_kb", "pmd_mapped_kb", "state"] { #expect(phase?[key] != nil) }
    }
}

@Suite struct OptionGroupTests {
    /// The shared group and each experiment's own part encode into one
    /// object, under the keys results have always had.
    @Test func optionsEncodeFlat() throws {
        let retract = try JSONValue(encoding: RetractOptions())
        guard case .object(let r) = retract else { Issue.record("not an object"); return }
        #expect(Set(r.keys) == ["backing", "tmpfs_huge", "directory", "processes", "trigger", "timeout_seconds", "full_wait",
                                "all_events", "size", "misaligned", "cow_pages", "madvise_times", "nohugepage", "uffd_wp"])
        #expect(r["processes"] == .number(2) && r["trigger"] == .string("madvise"))
        guard case .object(let g) = try JSONValue(encoding: RegionOptions(scenario: .sparse)) else { Issue.record("not an object"); return }
        #expect(g["present"] == .number(256) && g["processes"] == .number(1) && g["trigger"] == .string("khugepaged"))
        #expect(g["scenario"] == .string("sparse") && g["placement"] == nil)
    }

    /// A result from before an option existed reads with today's default.
    @Test func oldOptionsTakeTodaysDefaults() throws {
        let old = #"{"kind": "run", "options": {"scenario": "swap", "backing": "tmpfs", "extents": 2}}"#
        let data = try ResultFile.withOptionDefaults(Array(old.utf8), kind: .run)
        struct Holder: Decodable { var options: RegionOptions }
        let o = try JSONDecoder().decode(Holder.self, from: data).options
        #expect(o.backing == .tmpfs && o.extents == 2)
        #expect(o.swapped == 128 && o.present == 512 && o.timeoutSeconds == 60 && !o.allEvents, "the swap scenario's own defaults")
        var changed = o
        changed.timeoutSeconds = 5
        #expect(changed.common.timeoutSeconds == 5, "a shared field reads and writes through the group")
    }
}

