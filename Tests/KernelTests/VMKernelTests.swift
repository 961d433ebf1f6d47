import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// Experiments on Debian's 6.1 and newest 6.12 kernels, booted with
/// virtme-ng. Every rule is read from one battery per kernel, booted once
/// for the whole suite (GuestRuns.matrix): a boot takes 20-60 s under
/// software emulation, and each one is a chance for the emulator to fail.
@Suite struct VMKernelTests {
    /// The guest kernels: Debian's 6.1 and 6.12 (scripts/install-vm-tools).
    enum Guest: String, CaseIterable, Sendable {
        case k61 = "6.1.", k612 = "6.12."
        var release: String? { KernelGate.installedKernel(rawValue) }
    }

    func kernel(_ guest: Guest = .k61) throws -> String {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        return try #require(guest.release, "Debian's \(guest.rawValue)x kernel is not installed: scripts/install-vm-tools")
    }

    /// An entry's result from the guest's battery, with the guest's release checked.
    func entry(_ label: String, on guest: Guest) throws -> [String: Any] {
        _ = try kernel(guest)
        let result = try GuestRuns.entry(label, in: try GuestRuns.battery(guest.rawValue))
        #expect((result["kernel_release"] as? String)?.hasPrefix(guest.rawValue) == true)
        return result
    }

    /// `run retract` in a guest, under each trigger, with every mapping kind
    /// in three processes: every mapping ends as the expectation model says
    /// for that guest's kernel (before 6.6 MADV_COLLAPSE retracts no other
    /// page table; from 6.12 a nohugepage mapping refaults through PTEs; a
    /// uffd-wp mapping keeps its table).
    @Test(arguments: Guest.allCases, Trigger.allCases)
    func retractMeetsTheModelInTheGuest(guest: Guest, trigger: Trigger) throws {
        let result = try entry("run retract --trigger \(trigger.rawValue) --nohugepage --uffd-wp --processes 3", on: guest)
        #expect(result["ok"] as? Bool == true, "\(result["differences"] ?? "")")
        let c = try RetractRows.context(result)
        let rows = RetractRows.rows(result)
        #expect(rows.count == 18, "3 processes x 6 roles")
        for row in rows {
            #expect(row.state("refaulted") == (try RetractRows.expected(row, c)),
                    "\(row.role) (trigger mapping: \(row.triggerMapping), own process: \(row.inTriggerProcess)) on \(c.kernel)")
        }
    }

    /// A khugepaged threshold rule in each guest, one point each side of
    /// it: 256 pages present collapse under max_ptes_none 256 and not 255;
    /// 64 pages in swap (on the zram the guest's 9p root makes thplab use)
    /// collapse under max_ptes_swap 64 and not 63. The counts come from
    /// the model (RegionExperiment.expectation).
    enum ThresholdRule: String, CaseIterable, Sendable {
        case sparse, swap
        var entry: String { self == .sparse ? GuestRuns.sparse : GuestRuns.swap }
        var options: RegionOptions {
            var o = RegionOptions(scenario: self == .sparse ? .sparse : .swap)
            o.extents = 2
            if self == .sparse { o.present = 256 } else { o.swapped = 64 }
            return o
        }
    }

    @Test(arguments: Guest.allCases, ThresholdRule.allCases)
    func thresholdRuleHoldsInTheGuest(guest: Guest, rule: ThresholdRule) throws {
        let result = try entry(rule.entry, on: guest)
        let c = ExpectationContext(kernel: try #require(KernelVersion(release: result["kernel_release"] as? String ?? "")), backing: .memfd,
                                   trigger: .khugepaged, readOnlyThpForFS: nil, shmemHuge: .advise)
        let points = result["points"] as? [[String: Any]] ?? []
        #expect(points.count == 2)
        for p in points {
            let knobs = p["knobs"] as? [String: String] ?? [:]
            let none = Int(knobs["khugepaged/max_ptes_none"] ?? "") ?? 511
            let swap = Int(knobs["khugepaged/max_ptes_swap"] ?? "") ?? 64
            #expect(p["collapsed"] as? Int == RegionExperiment.expectation(rule.options, context: c, maxPtesNone: none, maxPtesSwap: swap).0,
                    "\(rule) \(knobs): \(p)")
        }
        #expect((result["checks"] as? [[String: Any]])?.first?["held"] as? Bool == true)
    }

    /// `run benefit` for anonymous memory and shmem in each guest: every
    /// state is what it says on 6.1 too (its PMDs known from smaps there,
    /// before PAGEMAP_SCAN), and under software emulation no time is
    /// taken, with the reason.
    @Test(arguments: Guest.allCases, [GuestRuns.benefitAnon, GuestRuns.benefitShmem])
    func benefitInTheGuest(guest: Guest, label: String) throws {
        let result = try entry(label, on: guest)
        let states = result["states"] as? [[String: Any]] ?? []
        #expect(states.map { $0["state"] as? String ?? "" } == ["small", "pte-mapped", "pmd"])
        for s in states {
            #expect(s["held"] as? Bool == true, "\(s["state"] ?? ""): \(s["pages"] ?? "") (\(s["how"] ?? ""))")
        }
        let emulated = result["hypervisor"] as? String == "TCGTCGTCGTCG"
        #expect(states.allSatisfy { ($0["chase"] == nil) == emulated && ($0["stream"] == nil) == emulated })
        #expect((result["notes"] as? [String] ?? []).contains { $0.contains("emulated in software") } == emulated)
    }

    /// `run mthp` for all three memories in each guest, judged by the
    /// version rules: on 6.12 every step meets the model (swap on zram, the
    /// guest's root being 9p; the fallback step's cgroup on v2) and each
    /// per-size fault layout is the one `MthpLayout` computes. 6.1, before
    /// multi-size THP, skips anon and shmem with notes naming the releases
    /// that brought them and runs the tmpfs steps, which need none.
    @Test(arguments: Guest.allCases)
    func mthpInTheGuest(guest: Guest) throws {
        let raw = try entry(GuestRuns.mthp, on: guest)
        let release = try #require(guest.release)
        let kernel = try #require(KernelVersion(release: release))
        let json = try JSONSerialization.data(withJSONObject: raw)
        let result = try JSONDecoder().decode(MthpResult.self, from: json)
        let ok = result.ok  // not the whole result in the failure message
        #expect(ok, "\(result.differences)")
        let tmpfs = result.steps.filter { $0.memory == .tmpfs }
        #expect(tmpfs.count == 7)
        guard VersionRules.anonMultiSize.applies(kernel) else {
            #expect(result.steps.count == 7)
            let notes = result.notes.joined(separator: " ")
            #expect(notes.contains("6.8") && notes.contains("6.11"), "\(result.notes)")
            // 6.1: within_size falls through to advise, so MADV_HUGEPAGE gives a 2M folio to a 48k VMA.
            #expect(tmpfs.first { $0.label == "tiny" }?.seen == ["2048": 12])
            return
        }
        #expect(result.steps.count == (VersionRules.shmemMultiSize.applies(kernel) ? 18 : 9) + 7)
        for s in result.steps where s.phase == .fault && s.memory != .tmpfs {
            let model = MthpLayout.expected(start: s.start, length: s.lengthKB * 1024, fileOffset: s.fileOffset, allowedKB: s.allowedKB)
            #expect(MthpSteps.keyed(model) == s.seen, "\(s.memory) \(s.label)")
        }
        #expect(result.steps.filter { $0.phase == .fallback }.allSatisfy { $0.rule.contains("(v2)") }, "the guest's cgroup2 root")
        #expect(result.swapRotational == false)
    }

    /// `sweep bloat` in each guest, in its cgroup2 (memory.reclaim):
    /// MADV_COLLAPSE makes THPs of 448 zeros; under max_ptes_none 256 the
    /// 6.12 shrinker splits them, and keeps those with 400 touched. The
    /// expected splits are the model's for the guest's knobs: 6.1 has no
    /// shrinker and splits none.
    @Test(arguments: Guest.allCases)
    func bloatInTheGuest(guest: Guest) throws {
        let json = try JSONSerialization.data(withJSONObject: try entry(GuestRuns.bloat, on: guest))
        let result = try JSONDecoder().decode(SweepResult.self, from: json)
        let ok = result.ok
        #expect(ok, "\(result.differences)")
        let release = try #require(guest.release)
        let hasShrinker = VersionRules.underusedShrinker.applies(try #require(KernelVersion(release: release)))
        #expect(result.points.count == 2)
        for p in result.points {
            let b = try #require(p.bloat)
            #expect(p.collapsed == 2 && b.addedKB == 2 * (512 - b.touched) * 4, "touched \(b.touched)")
            #expect(b.split == (hasShrinker && b.touched == 64 ? 2 : 0), "touched \(b.touched) on \(release)")
            #expect(b.split == b.expectedSplit)
        }
    }

    /// Debian's 6.1 has enabled=always and no PAGEMAP_SCAN: an anonymous
    /// region must still start small, and its collapse still be seen.
    @Test func anonymousCollapseByKhugepagedOn61() throws {
        let result: [String: Any]? = try entry(GuestRuns.anonCollapse, on: .k61)
        #expect(result?["collapsed"] as? Int == 2, "\(result?["differences"] ?? "")")
        let changed = (result?["knobs_changed"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(changed.contains("enabled"), "enabled=always must be lowered for populate: \(changed)")
        #expect((result?["knobs_before"] as? [String: String]) == (result?["knobs_after"] as? [String: String]))
    }

    /// The battery on the three kernels side by side (the capability table,
    /// retract under both triggers with every mapping kind in three
    /// processes, bloat and shared, whose model knows 6.1 has no shrinker):
    /// every cell the version rules speak of shows what the rule says for
    /// its column's kernel, the model predicts every row (no finding), every
    /// retract mapping was seen on every kernel, and the rows that differ
    /// alike are one line. doctor in a guest reads the guest kernel's own
    /// files: Debian's 6.1 has no multi-size THP directories and no
    /// PAGEMAP_SCAN (both came later), this host has both.
    @Test func matrixOfTheBatteryShowsEveryVersionRule() throws {
        let k61 = try kernel(.k61), k612 = try kernel(.k612)
        let outcome = GuestRuns.matrix
        let json = try outcome.require()
        #expect(outcome.invocation?.status == 0, "\(outcome.invocation?.stderr.suffix(3000) ?? "")")
        let columns = json["columns"] as? [[String: Any]] ?? []
        #expect(columns.compactMap { $0["ok"] as? Bool } == [true, true, true], "\(columns.map { ($0["label"] ?? "", $0["note"] ?? "") })")
        #expect(columns.compactMap { $0["kernel_release"] as? String } == [Sys.uname().release, k61, k612])
        let kernels = try columns.map { try #require(KernelVersion(release: $0["kernel_release"] as? String ?? "")) }
        #expect((json["findings"] as? [String])?.isEmpty == true, "\(json["findings"] ?? "")")
        let rows = json["rows"] as? [[String: Any]] ?? []
        let labels = Set(rows.compactMap { $0["process"] as? String })
        var checked = 0
        for rule in VersionRules.all {
            for e in rule.evidence where labels.contains(e.entry) {
                let row = rows.first { $0["process"] as? String == e.entry && $0["role"] as? String == e.subject }
                let cells = (row?["cells"] as? [[String: Any]] ?? []).map { $0["observed"] as? String }
                for (i, kernel) in kernels.enumerated() {
                    let observed = i < cells.count ? cells[i] : nil
                    #expect((rule.applies(kernel) ? e.inside : e.outside).holds(observed), "\(rule.id) on \(kernel): \(e.subject) shows \(observed ?? "nothing")")
                    checked += 1
                }
            }
        }
        #expect(checked >= 20)
        // retract: 3 processes x 6 roles under each trigger, each seen on each kernel.
        let retract = rows.filter { ($0["process"] as? String)?.hasPrefix("run retract") == true && $0["role"] as? String != "exit code" }
        #expect(retract.count >= 2 * 18, "\(retract.count) retract rows")
        for row in retract {
            let cells = row["cells"] as? [[String: Any]] ?? []
            #expect(cells.count == 3 && cells.allSatisfy { $0["observed"] as? String != nil && $0["met"] as? Bool == true },
                    "\(row["process"] ?? "") \(row["role"] ?? ""): \(cells)")
        }
        let disagreements = json["disagreements"] as? [String] ?? []
        #expect(disagreements.count < rows.filter { $0["disagree"] as? Bool == true }.count, "rows that differ alike are one line")
        func cells(_ name: String) -> [String?] {
            (rows.first { $0["process"] as? String == "doctor" && $0["role"] as? String == name }?["cells"] as? [[String: Any]] ?? [])
                .map { $0["observed"] as? String }
        }
        let sizes = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/kernel/mm/transparent_hugepage")) ?? []).filter { $0.hasPrefix("hugepages-") }
        let thpSizes = cells("THP sizes")
        #expect(thpSizes.count == 3 && thpSizes[0]?.hasPrefix("\(sizes.count): ") == true && thpSizes[1] == "PMD only"
                && thpSizes[2]?.first?.isNumber == true, "\(thpSizes)")
        #expect(cells("MADV_COLLAPSE") == ["yes", "yes", "yes"])
        let disagreement = disagreements.first { $0.components(separatedBy: " — ").first?.contains("doctor PAGEMAP_SCAN") == true }
        #expect(disagreement?.contains("host, \(k612): yes") == true && disagreement?.contains("\(k61): no") == true, "\(disagreements)")
    }

    /// Both NUMA placements in one two-node 6.1 guest (GuestRuns.numa).
    /// NumaKernelTests reads each one's result.
    static func numaEntry(_ label: String) throws -> [String: Any] {
        let json = try GuestRuns.numa.require()
        #expect(GuestRuns.numa.invocation?.status == 0, "\(GuestRuns.numa.invocation?.stderr.suffix(3000) ?? "")")
        let battery = try #require(json["result"] as? [String: Any], "the two-node guest brought back no battery")
        return try GuestRuns.entry(label, in: battery)
    }

    /// SIGTERM while the guest boots: vng does not pass it on to qemu, so
    /// thplab stops the whole tree itself, removes its exchange directory
    /// and exits 130.
    @Test func sigtermStopsTheGuestAndItsQemu() throws {
        let spec = try kernel(.k61)
        let (p, o, e) = try Thplab.start(["vm", "--kernel", spec, "--", "doctor"])
        // Until the guest's qemu runs under it (bounded: the boot takes
        // longer than this). vng first runs `qemu --version`, a qemu that
        // comes and goes: the guest's is the one named virtme-ng.
        let deadline = Date().addingTimeInterval(30)
        func qemus() -> [Int32] {
            StatFile.descendants(of: p.processIdentifier).filter {
                (try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8))?.contains("virtme-ng") == true
                    && (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("qemu") == true
            }
        }
        while qemus().isEmpty && Date() < deadline { usleep(100_000) }
        let tree = qemus()
        #expect(!tree.isEmpty, "qemu never started under thplab vm")
        kill(p.processIdentifier, SIGTERM)
        let r = Thplab.finish(p, o, e, timeout: 20)
        for line in r.stderr.split(separator: "\n") where line.contains("booting") { print("  " + line + " (stopped by SIGTERM)") }
        #expect(r.status == 130, "\(r.stderr)")
        #expect(r.stderr.contains("interrupted"))
        for pid in tree { #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"), "qemu \(pid) outlived thplab vm") }
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("thplab-vm-") }
        #expect(leftovers.isEmpty, "exchange directories left: \(leftovers)")
    }

    @Test func badKernelsAreRefused() throws {
        try #require(KernelGate.available)
        for (kernel, status) in [("/nonexistent/vmlinuz", Int32(2)), ("/etc/hostname", 2), ("9.9.9-not-installed", 2)] {
            let r = try Thplab.run(["vm", "--kernel", kernel, "--", "doctor"], timeout: 60)
            #expect(r.status == status, "\(kernel): \(r.stderr)")
        }
        let none = try Thplab.run(["vm", "--kernel", try kernel()], timeout: 60)
        #expect(none.status == 2, "no thplab arguments")
        // A node naming a CPU the guest would not have is refused before any boot.
        let numa = try Thplab.run(["vm", "--kernel", try kernel(), "--numa", "1G,cpus=0", "--numa", "1G,cpus=1", "--", "doctor"], timeout: 60)
        #expect(numa.status == 2 && numa.stderr.contains("--cpus 2"), "\(numa.stderr)")
    }
}
}
