import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// `run mthp` on the real kernel: for anonymous memory and shmem, the folio
/// sizes faults get, partial unmapping, collapse of mTHPs and swap-out, each
/// step judged against `MthpLayout` and the per-size counters; and the
/// per-size policies it sets come back.
@Suite struct MthpKernelTests {
    func run(_ args: [String], expect status: Int32 = 0, timeout: Double = 120) throws -> MthpResult {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        let host = HostSnapshot()
        let r = try Thplab.run(["run", "mthp"] + args + ["--json", "-"], timeout: timeout)
        #expect(!r.timedOut)
        #expect(r.status == status, "\(args): exit \(r.status) \(r.stderr)")
        host.expectRestored()
        return try JSONDecoder().decode(MthpResult.self, from: Data(r.stdout.utf8))
    }

    func zram() -> String? { try? String(contentsOfFile: "/sys/block/zram0/disksize", encoding: .utf8) }

    /// Every step of both memories as the model says, with the device kind
    /// deciding swap-out: a swap file on this host's disk (rotational) and
    /// zram (not). The test recomputes each fault layout itself.
    @Test(.enabled(if: HostState.swaps().isEmpty, "the host has swap: thplab would use it, and its kind decides"),
          arguments: [MthpOptions.Swap.file, .zram])
    func everyStepMeetsTheModel(swap: MthpOptions.Swap) throws {
        let zramBefore = zram()
        let r = try run(["--swap", swap.rawValue])
        #expect(zram() == zramBefore, "zram0 left as found")
        #expect(r.ok, "\(r.differences)")
        #expect(r.steps.count == 18)
        #expect(r.knobsAfter == r.knobsBefore)
        let policies = MthpPolicies(knobs: r.knobsInForce.mapValues { SysfsValue.parse($0) })
        for s in r.steps where s.phase == .fault {
            let allowed = policies.allowed(s.memory, advised: s.advised).filter {
                MthpLayout.excluded(sizeKB: $0, start: s.start, length: s.lengthKB * 1024, fileOffset: s.fileOffset) == nil
            }
            #expect(s.allowedKB == allowed, "\(s.memory) \(s.label)")
            let model = MthpLayout.expected(start: s.start, length: s.lengthKB * 1024, fileOffset: s.fileOffset, allowedKB: allowed)
            #expect(MthpSteps.keyed(model) == s.seen, "\(s.memory) \(s.label): \(s.seen)")
        }
        // The defaults give each memory 16k without MADV_HUGEPAGE and 64k with it.
        for m in MthpMemory.perSize {
            #expect(r.steps.first { $0.memory == m && $0.label == "plain" }?.seen["16"] == 256, "\(m) plain")
            #expect(r.steps.first { $0.memory == m && $0.label == "advised" }?.seen["64"] == 256, "\(m) advised")
            let collapse = try #require(r.steps.first { $0.memory == m && $0.phase == .collapse })
            #expect(collapse.before?["16"] == 508 && collapse.seen == ["2048": 512], "\(m) collapse")
        }
        // Fallback: no room for 2M in the step's cgroup. Anonymous memory
        // takes the next allowed size (64k with MADV_HUGEPAGE); shmem a base page.
        for m in MthpMemory.perSize {
            let f = try #require(r.steps.first { $0.memory == m && $0.phase == .fallback })
            #expect(f.allowedKB.first == 2048)
            #expect(f.seen == (m == .anon ? ["64": 16] : ["4": 1]), "\(m) fallback")
            let charge = m == .anon ? "anon_fault_fallback_charge" : "shmem_fallback_charge"
            #expect(f.checks.contains { $0.counter == charge && $0.sizeKB == 2048 && $0.holds == true }, "\(f.checks)")
        }
        #expect(r.swapRotational == (swap == .file))
        let swapChecks = r.steps.filter { $0.phase == .swap }.flatMap(\.checks)
        #expect(Set(swapChecks.map(\.counter)) == (swap == .file ? ["swpout_fallback", "split"] : ["swpout"]))
        #expect(swapChecks.allSatisfy { $0.holds == true && $0.sizeKB == 64 && $0.atLeast == 16 })
        let partial = try #require(r.steps.first { $0.memory == .anon && $0.phase == .partial })
        #expect(partial.checks.count == 2 && partial.checks.allSatisfy { $0.holds == true })
        #expect(r.deltas.perSize?.sizes[64]?["anon_fault_alloc"].map { $0 >= 16 + 15 } == true)
    }

    /// Policies given with --knob replace the defaults: 32k always and the
    /// PMD size never for anonymous memory; the advised 1 MiB VMA gets 32k.
    @Test func givenPoliciesDecideTheSizes() throws {
        let r = try run(["--memory", "anon", "--swap", "none", "--knob", "hugepages-32kB/enabled=always",
                         "--knob", "hugepages-2048kB/enabled=never"])
        #expect(r.ok, "\(r.differences)")
        #expect(r.steps.count == 8)
        #expect(r.steps.first { $0.label == "advised" }?.seen == ["32": 256])
        #expect(r.steps.first { $0.label == "pmd" }?.seen == ["32": 512], "the PMD size is never")
        #expect(Set(r.knobsChanged.map(\.name)).isSuperset(of: ["hugepages-32kB/enabled"]))
    }

    /// The issue's sweep: 64k never/always by the PMD size never/inherit.
    /// Each point's advised 1 MiB VMA gets 64k exactly where 64k is always,
    /// the 2 MiB one a PMD exactly where the PMD size is allowed with
    /// MADV_HUGEPAGE (the model's policy rule), and the checks hold.
    @Test func sweepOfPerSizePolicies() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(["sweep", "mthp", "--memory", "anon", "--knob", "hugepages-64kB/enabled=never,always",
                                "--knob", "hugepages-2048kB/enabled=never,inherit", "--json", "-"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        host.expectRestored()
        let s = try JSONDecoder().decode(MthpSweepResult.self, from: Data(r.stdout.utf8))
        #expect(s.points.count == 4)
        #expect(s.checks.count == 2 && s.checks.allSatisfy(\.held), "\(s.checks)")
        for p in s.points {
            let policies = MthpPolicies(values: s.knobsBefore.merging(p.knobs) { $1 })
            let advised = try #require(p.steps.first { $0.label == "advised" })
            #expect((advised.seen["64"] == 256) == (p.knobs["hugepages-64kB/enabled"] == "always"), "\(p.knobs)")
            let pmd = try #require(p.steps.first { $0.label == "pmd" })
            #expect((pmd.seen["2048"] == 512) == policies.allows(.anon, sizeKB: 2048, advised: true), "\(p.knobs)")
        }
    }

    /// The collapse step by khugepaged: where the PMD size's policy allows
    /// it with MADV_HUGEPAGE the mTHP range becomes one PMD-sized folio and
    /// the tracepoints say khugepaged did it; a PMD size the run was asked
    /// to keep at never stays never (making khugepaged fast never overrides
    /// it) and the range keeps its mTHPs.
    @Test func collapseByKhugepaged() throws {
        let r = try run(["--swap", "none", "--trigger", "khugepaged"])
        #expect(r.ok, "\(r.differences)")
        for c in r.steps where c.phase == .collapse {
            #expect(c.seen == ["2048": 512], "\(c.memory)")
            #expect(c.diagnosis?.reason.contains("collapsed by khugepaged") == true, "\(c.diagnosis?.reason ?? "")")
        }
        let kept = try run(["--swap", "none", "--memory", "anon", "--trigger", "khugepaged", "--timeout", "5",
                            "--knob", "hugepages-2048kB/enabled=never", "--knob", "hugepages-16kB/enabled=always"])
        #expect(kept.ok, "\(kept.differences)")
        let c = try #require(kept.steps.first { $0.phase == .collapse })
        #expect(c.seen == c.before && c.seen["16"] == 508)
        #expect(kept.knobsInForce["hugepages-2048kB/enabled"] == "never")
        #expect(!kept.knobsChanged.contains { $0.name == "hugepages-2048kB/enabled" && $0.to != "never" })
    }

    /// The PMD size's per-size shmem policy never: MADV_COLLAPSE of the
    /// collapse step's memfd fails with EINVAL where the model says the
    /// call obeys it (6.18), and collapses where it ignores it (6.12); the
    /// fallback step, with no large size above the charge batch, says so.
    @Test func memfdCollapseFollowsThePMDSizesPolicyAsTheModelSays() throws {
        let r = try run(["--memory", "shmem", "--swap", "none", "--knob", "hugepages-2048kB/shmem_enabled=never",
                         "--knob", "hugepages-16kB/shmem_enabled=always"])
        #expect(r.ok, "\(r.differences)")
        let kernel = try #require(KernelVersion(release: r.kernelRelease))
        let refused = MemfdCollapseRule.refusal(kernel: kernel, pmdPolicy: .never, advised: false) != nil
        let c = try #require(r.steps.first { $0.phase == .collapse })
        #expect(c.errnoName == (refused ? "EINVAL" : nil) && c.expectedErrno == c.errnoName)
        #expect(refused ? c.seen == c.before : c.seen == ["2048": 512], "\(c.seen)")
        let f = try #require(r.steps.first { $0.phase == .fallback })
        #expect(f.allowedKB == [16] && f.seen.isEmpty && f.rule.contains("charge batch"))
    }

    /// A tmpfs of thplab's under each huge=: the fault VMAs get the PMD size
    /// where the mount and the VMA allow it and base pages elsewhere
    /// (per-size policies do not apply), the writes what `TmpfsRule` says
    /// for this kernel; the mounts are gone afterwards.
    @Test(arguments: [TmpfsHuge.always, .within_size, .advise])
    func tmpfsFollowsItsMountOption(huge: TmpfsHuge) throws {
        let r = try run(["--memory", "tmpfs", "--tmpfs-huge", huge.rawValue])
        #expect(r.ok, "\(r.differences)")
        #expect(r.steps.map(\.label) == ["plain", "advised", "offset", "tiny", "pmd", "write 64k", "write 1M"])
        let kernel = try #require(KernelVersion(release: r.kernelRelease))
        #expect(r.steps.first { $0.label == "pmd" }?.seen == ["2048": 512], "a 2M VMA with MADV_HUGEPAGE under \(huge)")
        if kernel >= TmpfsRule.faultFitsVmaSince {
            #expect(r.steps.first { $0.label == "advised" }?.seen == ["4": 256], "no size below the PMD size")
        }
        for kb in MthpSteps.writeSizesKB {
            let w = try #require(r.steps.first { $0.label == "write \(FolioSizes.kB(kb))" })
            #expect(w.seen == MthpSteps.keyed(TmpfsRule.write(huge: huge, kernel: kernel, sizeKB: kb).expected), "\(w.seen)")
        }
    }

    /// Bad input changes nothing and says what is wrong (exit 2).
    @Test(arguments: [
        (["--knob", "hugepages-3kB/enabled=always"], "its sizes for enabled are"),
        (["--knob", "hugepages-8kB/enabled=always"], "its sizes for enabled are"),
        (["--knob", "hugepages-64kB/enabled=within_size"], "takes one of"),
        (["--knob", "max_ptes_none=0"], "per-size policies only"),
        (["--memory", "anon", "--memory", "anon"], "each --memory once"),
        (["--memory", "tmpfs", "--tmpfs-huge", "sometimes"], "--tmpfs-huge"),
    ])
    func badInputIsRefused(args: [String], message: String) throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(["run", "mthp"] + args, timeout: 30)
        #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        host.expectRestored()
    }

    /// sweep refuses options its scenario would ignore, before changing anything.
    @Test(arguments: [
        (["sweep", "mthp", "--extents", "8", "--node", "0", "--knob", "hugepages-64kB/enabled=never,always"], "does not use --extents, --node"),
        (["sweep", "sparse", "--memory", "anon", "--knob", "max_ptes_none=0,511"], "--memory and --swap are sweep mthp's"),
    ])
    func sweepRefusesOptionsItWouldIgnore(args: [String], message: String) throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(args, timeout: 30)
        #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        host.expectRestored()
    }

    /// A SIGKILLed run leaves its per-size policies set; the next start
    /// puts them back from the journal.
    @Test func aKilledRunsPoliciesAreRestored() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let knob = "hugepages-16kB/enabled"
        let before = HostState.value(knob)
        try #require(!before.contains("[always]"), "the host already has \(knob)=always")
        let (p, o, e) = try Thplab.start(["run", "mthp", "--swap", "file"])
        let deadline = Date().addingTimeInterval(20)
        while !HostState.value(knob).contains("[always]") && Date() < deadline { usleep(200) }
        kill(p.processIdentifier, SIGKILL)
        _ = Thplab.finish(p, o, e, timeout: 20)
        #expect(HostState.value(knob).contains("[always]"), "the kill landed after the run had put its policy back")
        let r = try Thplab.run(["knobs", "restore"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(HostState.value(knob) == before)
        host.expectRestored()
    }

    /// SIGTERM at ten moments of the first second of `run mthp` (policies,
    /// cgroup, swap, tracefs mount and instance being made): each time the
    /// run itself puts everything back before it exits, and says so. A
    /// short fixed sample of the kill harness (issue 18); the tracefs
    /// instance was left busy at 0.4 s before its removal retried EBUSY.
    @Test func aSigtermAtAnyMomentLeavesNothing() throws {
        try #require(KernelGate.available)
        for tenths in 1...10 {
            let host = HostSnapshot()
            let (p, o, e) = try Thplab.start(["run", "mthp"])
            usleep(UInt32(tenths) * 100_000)
            kill(p.processIdentifier, SIGTERM)
            let r = Thplab.finish(p, o, e, timeout: 30)
            #expect(!r.timedOut)
            #expect(r.status == 128 + SIGTERM || r.status == 0, "SIGTERM at 0.\(tenths) s: exit \(r.status) \(r.stderr.suffix(1500))")
            if r.status != 0 {
                #expect(r.stderr.contains("interrupted by signal 15") && !r.stderr.contains("FAILED"), "SIGTERM at 0.\(tenths) s: \(r.stderr.suffix(1500))")
            }
            host.expectRestored()
        }
    }

    /// A run killed while its fallback step's memory cgroup exists leaves
    /// it behind; the next start removes it (and its worker is gone).
    @Test func aKilledRunsCgroupIsRemoved() throws {
        try #require(KernelGate.available)
        try #require(HostState.thplabCgroups().isEmpty, "thplab cgroups already present: \(HostState.thplabCgroups())")
        let host = HostSnapshot()
        let (p, o, e) = try Thplab.start(["run", "mthp", "--memory", "anon", "--swap", "none"])
        let deadline = Date().addingTimeInterval(30)
        while HostState.thplabCgroups().isEmpty && p.isRunning && Date() < deadline { usleep(200) }
        kill(p.processIdentifier, SIGKILL)
        _ = Thplab.finish(p, o, e, timeout: 20)
        #expect(!HostState.thplabCgroups().isEmpty, "the kill landed outside the fallback step")
        let r = try Thplab.run(["knobs", "restore"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("removed /sys/fs/cgroup") || r.stderr.contains("removed /sys/fs/cgroup"), "\(r.stdout) \(r.stderr)")
        host.expectRestored()
    }

    /// `explain` under a per-size policy set for it alone: each anonymous
    /// VMA of the test process may get 16k exactly where the VMA's shape
    /// allows (the model's rule), and the policy comes back afterwards.
    @Test func explainSaysWhichSizesEachVMAMayGet() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(["knobs", "set", "hugepages-16kB/enabled=always", "--", Thplab.binary, "explain", "--pid", "\(getpid())",
                                "--json", "-"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        host.expectRestored()
        let e = try JSONDecoder().decode(ExplainResult.self, from: Data(r.stdout.utf8))
        let anon = e.vmas.filter { $0.kind == .anon }
        #expect(!anon.isEmpty)
        for v in anon {
            let sizes = try #require(v.sizes, "\(v.start)")
            let fits = MthpLayout.excluded(sizeKB: 16, start: v.start, length: Int(v.end - v.start), fileOffset: nil) == nil
            #expect(sizes.first { $0.sizeKB == 16 }?.allowed == (fits && !v.flags.contains("nh")), "\(v.start)-\(v.end) \(sizes)")
            if MthpPolicies(values: e.knobs).effective(.anon, sizeKB: 32) == "never" && !v.flags.contains("nh") {
                #expect(sizes.first { $0.sizeKB == 32 }?.why == "policy never")
            }
        }
    }

    /// Per-size counters in `snapshot --system` and in the diff of two:
    /// 64k has anonymous counters, shmem's 8k has none (absent, not zero).
    @Test func snapshotsCarryPerSizeCounters() throws {
        try #require(KernelGate.available)
        let dir = "/tmp/thplab-test-persize-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["a", "b"] {
            let r = try Thplab.run(["snapshot", "--pid", "\(getpid())", "--system", "--json", "\(dir)/\(name).json"], timeout: 30)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("per-size counters (since boot)"))
        }
        let snap = try JSONDecoder().decode(SnapshotResult.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/a.json")))
        let sizes = try #require(snap.system?.perSize)
        #expect(sizes.sizes[64]?["anon_fault_alloc"] != nil)
        #expect(sizes.sizes[8].map { $0["anon_fault_alloc"] == nil && $0["shmem_alloc"] != nil } == true)
        let d = try Thplab.run(["diff", "\(dir)/a.json", "\(dir)/b.json", "--json", "-"], timeout: 30)
        #expect(d.status == 0, "\(d.stderr)")
        let diff = try JSONDecoder().decode(DiffResult.self, from: Data(d.stdout.utf8))
        #expect(diff.system?.perSize?.sizes[64]?["anon_fault_alloc"].map { $0 >= 0 } == true)
    }
}
}
