import Foundation
import Testing
@testable import THPLab

/// The three saved batteries are real runs of `thplab battery`: on this
/// host's 6.18 and in virtme-ng guests of Debian's 6.1 and 6.12.
enum Batteries {
    static func load(_ name: String) throws -> BatteryResult {
        try ResultFile.read(Fixture.path(name), as: BatteryResult.self)
    }

    static func row(_ b: BatteryResult, entry: String, subject: String) -> BehaviourRow? {
        b.rows.first { $0.group == entry && $0.subject == subject }
    }
}

@Suite struct VersionRuleTests {
    /// Every rule is shown by a saved run on a kernel inside its range, and
    /// on one outside it where a measured kernel lies outside; every piece
    /// of evidence shows what the rule says for that run's kernel.
    @Test(arguments: VersionRules.all.map(\.id))
    func ruleHasEvidenceOnBothSides(id: String) throws {
        let rule = try #require(VersionRules.all.first { $0.id == id })
        #expect(!rule.evidence.isEmpty)
        var inside = 0, outside = 0
        for e in rule.evidence {
            for name in e.runs {
                let b = try Batteries.load(name)
                let kernel = try #require(KernelVersion(release: b.kernelRelease))
                let applies = rule.applies(kernel)
                let observed = Batteries.row(b, entry: e.entry, subject: e.subject)?.observed
                #expect((applies ? e.inside : e.outside).holds(observed),
                        "\(rule.id): \(name) (\(b.kernelRelease)) \(e.entry) | \(e.subject) shows \(observed ?? "nothing")")
                if applies { inside += 1 } else { outside += 1 }
            }
        }
        let measuredOutside = try VersionRules.measured.contains { name in
            !rule.applies(try #require(KernelVersion(release: try Batteries.load(name).kernelRelease)))
        }
        #expect(inside > 0, "\(rule.id): no evidence on a kernel inside its range")
        #expect(outside > 0 || !measuredOutside, "\(rule.id): a measured kernel is outside its range, but no evidence there")
    }

    @Test func eachMeasuredKernelIsWhatItsNameSays() throws {
        for (name, prefix) in zip(VersionRules.measured, ["6.1.", "6.12.", "6.18."]) {
            #expect(try Batteries.load(name).kernelRelease.hasPrefix(prefix))
        }
    }
}

@Suite struct BatteryFixtureTests {
    /// Each saved retract run, re-judged by today's model with its own
    /// kernel's version: every mapping's final state is predicted.
    @Test(arguments: VersionRules.measured)
    func retractRunsMeetTodaysModel(fixture: String) throws {
        let b = try Batteries.load(fixture)
        let retracts = b.entries.compactMap { e -> RetractResult? in
            guard case .retract(let r)? = OwnRun.decode(e.result) else { return nil }
            return r
        }
        #expect(retracts.count == 4)
        for r in retracts {
            let c = ExpectationContext(kernel: KernelVersion(release: r.kernelRelease)!, backing: r.backing, trigger: r.trigger,
                                       readOnlyThpForFS: false, shmemHuge: r.trigger == .khugepaged ? .advise : .never)
            let observed = r.mappings.map {
                ObservedMapping(role: $0.role, pid: $0.pid, start: $0.start, end: $0.end, inTriggerProcess: $0.inTriggerProcess, phases: $0.phases)
            }
            let (judged, differences) = RetractEvaluation.judge(observed, context: c)
            #expect(differences.isEmpty, "\(fixture) \(r.trigger): \(differences)")
            #expect(judged.count == r.mappings.count && judged.count >= 8)
        }
    }

    /// The fingerprint is every entry's rows under its label, after its exit code.
    @Test func fingerprintRowsCarryTheirEntry() throws {
        let b = try Batteries.load("battery-6.18.json")
        #expect(b.entries.count == Battery.plan.count)
        for e in b.entries {
            let rows = b.rows.filter { $0.group == e.label }
            #expect(rows.first?.subject == "exit code" && rows.first?.observed == "\(e.exitCode)")
            #expect(rows.count == e.rows.count + 1)
        }
        #expect(Batteries.row(b, entry: VersionRules.retractPlain, subject: "thplab shared*")?.observed == "pmd-mapped")
    }
}

@Suite struct BehaviourDiffTests {
    @Test func aFingerprintAgainstItselfChangesNothing() throws {
        let b = try Batteries.load("battery-6.12.json")
        let d = BehaviourDiff.diff(before: b, after: b)
        #expect(d.changes.isEmpty)
        #expect(d.unchanged == b.rows.count)
    }

    /// 6.1 against 6.18: the rows the version rules name change, each with
    /// the rule on both sides, and each side met its own kernel's model.
    @Test func sixOneToSixEighteenChangesWhatTheRulesSay() throws {
        let old = try Batteries.load("battery-6.1.json"), new = try Batteries.load("battery-6.18.json")
        let d = BehaviourDiff.diff(before: old, after: new)
        func change(_ entry: String, _ subject: String) -> BehaviourDiffResult.Change? {
            d.changes.first { $0.group == entry && $0.subject == subject }
        }
        let nohuge = try #require(change(VersionRules.retractKhugepagedAll, "worker 1 nohugepage"))
        #expect(nohuge.before == "pmd-mapped" && nohuge.after == "pte-mapped" && nohuge.explained)
        #expect(nohuge.ruleAfter?.contains("6.12") == true)
        #expect(nohuge.versionRule?.hasPrefix(VersionRules.nohugepageNoPMDAtFault.id) == true)
        // The 3-process entry's rows name the rule whose evidence is the plain entry's.
        #expect(change(VersionRules.retractPlain + " --nohugepage --uffd-wp --processes 3", "worker 2 shared")?.versionRule?
            .hasPrefix(VersionRules.locklessRetraction.id) == true)
        // This host had no tracefs mounted for doctor: not a difference.
        #expect(change("doctor", "huge_memory tracepoints") == nil)
        #expect(d.unknown.contains { $0.contains("huge_memory tracepoints") })
        let remote = try #require(change(VersionRules.retractPlain, "worker 1 shared"))
        #expect(remote.before == "pte-mapped" && remote.after == "pmd-mapped")
        #expect(change("doctor", "PAGEMAP_SCAN")?.after == "yes")
        // A knob 6.1 lacks is a row only one side has.
        #expect(change("doctor", "knob shrink_underused").map { $0.before == nil && $0.after != nil } == true)
        // The rows no rule changed stay: private-written is PTE-mapped everywhere.
        #expect(change(VersionRules.retractPlain, "worker 1 private-written") == nil)
        #expect(d.unchanged > 20)
    }
}

@Suite struct MatrixFindingTests {
    func columns(_ names: [String]) throws -> [(MatrixColumn, [BehaviourRow]?)] {
        try names.map { name in
            let b = try Batteries.load(name)
            return (MatrixColumn(label: b.kernelRelease, kernelRelease: b.kernelRelease, how: "fixture", exitCode: 0, ok: true, note: nil), b.rows)
        }
    }

    /// The three kernels differ where the rules say and the model knows
    /// every difference: no finding. Rows that differ alike are one line.
    @Test func threeKernelsHaveNoFindings() throws {
        let m = Matrix.build(arguments: ["battery"], columns: try columns(VersionRules.measured))
        #expect(m.findings.isEmpty, "\(m.findings)")
        #expect(m.ok)
        let nohuge = try #require(m.disagreements.first { $0.contains("worker 1 nohugepage") && $0.contains(VersionRules.retractKhugepagedAll) })
        #expect(nohuge.contains("6.12") && nohuge.contains("pmd-mapped") && nohuge.contains("pte-mapped"))
        #expect(m.disagreements.count < m.rows.filter(\.disagree).count, "alike rows are grouped")
    }

    /// A row the model got wrong on one kernel (here, a real row marked
    /// unmet) is a finding that names the kernel and both outcomes.
    @Test func anUnmetRowIsAFinding() throws {
        var cols = try columns(["battery-6.1.json", "battery-6.18.json"])
        var rows = try #require(cols[0].1)
        let i = try #require(rows.firstIndex { $0.group == VersionRules.retractPlain && $0.subject == "worker 1 shared" })
        rows[i].met = false
        rows[i].expected = "pmd-mapped"
        cols[0].1 = rows
        let m = Matrix.build(arguments: ["battery"], columns: cols)
        #expect(!m.ok)
        let f = try #require(m.findings.first)
        #expect(m.findings.count == 1)
        #expect(f.contains("worker 1 shared") && f.contains("6.1.") && f.contains("the model expected pmd-mapped") && f.contains("no rule"))
    }
}

@Suite struct OwnRunTests {
    /// A child's reason, as the argument parser, thplab or a signal gave it.
    @Test(arguments: [
        (Int32(2), "Error: Unknown option '--bogus'\nUsage: thplab sweep <subcommand>\n  See 'thplab sweep --help' for more information.\n",
         "Error: Unknown option '--bogus'"),
        (3, "thplab: waiting for khugepaged\nthplab: the numa scenario needs two NUMA nodes with memory; this host has 1\n",
         "the numa scenario needs two NUMA nodes with memory; this host has 1"),
        (137, "thplab: waiting for khugepaged\n", "killed by signal 9"),
        (1, "", "exit 1, nothing on stderr"),
    ])
    func whyAChildHasNoResult(code: Int32, stderr: String, why: String) {
        #expect(OwnRun.why(exitCode: code, stderr: stderr) == why)
    }
}

/// Which entries a battery runs: the plan, the plan's entries `--only`
/// names, and commands of the caller's own (`--entry`).
@Suite struct BatteryChoiceTests {
    @Test func neitherOnlyNorEntryRunsThePlan() throws {
        #expect(try Battery.choose(only: [], extra: []) == Battery.plan)
    }

    @Test func onlyThenEntriesEachOnce() throws {
        let chosen = try Battery.choose(only: ["doctor", "nohugepage --uffd-wp"], extra: [["sweep", "sparse", "--present", "256"], ["doctor"]])
        #expect(chosen.map { $0.joined(separator: " ") } == [
            "doctor",
            "run retract --trigger madvise --nohugepage --uffd-wp --processes 3",
            "run retract --trigger khugepaged --nohugepage --uffd-wp --processes 3",
            "sweep sparse --present 256",
        ])
        #expect(try Battery.choose(only: [], extra: [["run", "numa", "--node", "1"]]) == [["run", "numa", "--node", "1"]])
    }

    @Test(arguments: [(["nosuch"], [[String]](), "matches no battery entry"), ([], [["knobs", "set", "enabled=always"]], "an entry is a thplab run"),
                      ([], [["run", "sparse", "--json", "-"]], "its own --json"), ([], [[]], "an entry is")])
    func badChoicesAreRefused(only: [String], extra: [[String]], message: String) {
        do {
            _ = try Battery.choose(only: only, extra: extra)
            Issue.record("accepted \(only) \(extra)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
