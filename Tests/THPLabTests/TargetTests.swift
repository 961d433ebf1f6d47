import Foundation
import Testing
@testable import THPLab

/// Targets resolved over a fixture /proc and cgroup tree built from real
/// files captured on 6.18 (a postgres process, kthreadd).
@Suite struct TargetTests {
    /// A temporary /proc with processes 2 (kthreadd), 100 and 101 (postgres),
    /// 102 (bash), and a cgroup mount holding 100 in a child cgroup.
    final class Tree {
        let root: String
        var proc: String { root + "/proc" }
        var cgroup: String { root + "/cgroup/memory" }
        var mounts: String { "cgroup \(cgroup) cgroup rw,relatime,memory 0 0\ncgroup2 \(root)/cgroup/unified cgroup2 rw 0 0\n" }

        init() throws {
            root = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-targets-")
            let fm = FileManager.default
            let pgStat = try Fixture.text("stat-postgres-6.18.txt"), kStat = try Fixture.text("stat-kthreadd-6.18.txt")
            let pgCgroup = try Fixture.text("cgroup-postgres-v1-6.18.txt")
            for (pid, comm, stat) in [(2, "kthreadd", kStat), (100, "postgres", pgStat), (101, "postgres", pgStat), (102, "bash", pgStat)] {
                let d = "\(proc)/\(pid)"
                try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
                try (comm + "\n").write(toFile: d + "/comm", atomically: false, encoding: .utf8)
                try stat.write(toFile: d + "/stat", atomically: false, encoding: .utf8)
                try pgCgroup.write(toFile: d + "/cgroup", atomically: false, encoding: .utf8)
            }
            try fm.createDirectory(atPath: cgroup + "/svc/child", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: cgroup + "/idle", withIntermediateDirectories: true)
            try "".write(toFile: cgroup + "/idle/cgroup.procs", atomically: false, encoding: .utf8)
            try fm.createDirectory(atPath: root + "/cgroup/unified", withIntermediateDirectories: true)
            try "\n".write(toFile: cgroup + "/cgroup.procs", atomically: false, encoding: .utf8)
            try "101\n".write(toFile: cgroup + "/svc/cgroup.procs", atomically: false, encoding: .utf8)
            try "100\n".write(toFile: cgroup + "/svc/child/cgroup.procs", atomically: false, encoding: .utf8)
            try fm.createDirectory(atPath: root + "/notacgroup", withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func resolve(_ t: [ProcessTarget]) throws -> ResolvedTargets {
            try ProcessTargets.resolve(t, selfPid: 1, procRoot: proc, mounts: mounts)
        }
    }

    @Test func statFlagsTellKernelThreads() throws {
        let k = try #require(StatFile.flags(try Fixture.text("stat-kthreadd-6.18.txt")))
        #expect(k & ProcessTargets.kernelThreadFlag != 0)
        let p = try #require(StatFile.flags(try Fixture.text("stat-postgres-6.18.txt")))
        #expect(p & ProcessTargets.kernelThreadFlag == 0)
        // A comm with spaces and parentheses: fields count from the last ')'.
        #expect(StatFile.flags("9 (a b) (c) S 1 1 1 0 -1 4194304 113 0") == 4194304)
    }

    @Test func cgroupLinePicksTheMemoryHierarchy() throws {
        #expect(CgroupFile.memoryPath(try Fixture.text("cgroup-v1-6.18.txt")) == "/process_api/044e2938aeb11554b91cc84eca497b37")
        #expect(CgroupFile.memoryPath("0::/system.slice/x.service\n") == "/system.slice/x.service")
        #expect(CgroupFile.memoryPath("garbage") == nil)
    }

    @Test func statusShowsThpDisabled() throws {
        #expect(ProcStatus.thpEnabled(try Fixture.text("status-postgres-6.18.txt")) == true)
        #expect(ProcStatus.thpEnabled("Name:\tx\nTHP_enabled:\t0\n") == false)
        #expect(ProcStatus.thpEnabled("Name:\tx\n") == nil)
    }

    @Test func allSkipsKernelThreadsAndSelf() throws {
        let t = try Tree()
        let r = try ProcessTargets.resolve([.all], selfPid: 101, procRoot: t.proc, mounts: t.mounts)
        #expect(r.pids == [100, 102])
        #expect(r.cgroups[100] == "/process_api/044e2938aeb11554b91cc84eca497b37")
    }

    @Test func commMatchesByNameAndCutsAt15() throws {
        let t = try Tree()
        #expect(try t.resolve([.comm("postgres")]).pids == [100, 101])
        #expect(ProcessTargets.commKey("a-very-long-program-name") == "a-very-long-pro")
        let e = #expect(throws: THPLabError.self) { try t.resolve([.comm("nosuchprogram")]) }
        #expect(e?.kind == .usage)
        #expect(e?.message.contains("matches no process") == true)
    }

    @Test func cgroupWalksTheSubtree() throws {
        let t = try Tree()
        #expect(try t.resolve([.cgroup(t.cgroup + "/svc")]).pids == [101, 100])
        // The same cgroup as /proc/PID/cgroup names it, relative to the mounts.
        #expect(try t.resolve([.cgroup("/svc/child")]).pids == [100])
        // The root holds no process itself: only its descendants'.
        #expect(try t.resolve([.cgroup(t.cgroup)]).pids == [101, 100])
        let idle = try t.resolve([.cgroup(t.cgroup + "/idle")])
        #expect(idle.pids.isEmpty)
        #expect(idle.notes == ["cgroup \(t.cgroup)/idle holds no process"])
        // Targets combine without repeating a process.
        #expect(try t.resolve([.pid(100), .comm("postgres")]).pids == [100, 101])
    }

    @Test func badCgroupsAreUsageErrors() throws {
        let t = try Tree()
        for bad in ["/nope/none", t.root + "/notacgroup"] {
            let e = #expect(throws: THPLabError.self) { try t.resolve([.cgroup(bad)]) }
            #expect(e?.kind == .usage, "\(bad)")
        }
        let notCgroup = #expect(throws: THPLabError.self) { try t.resolve([.cgroup(t.root + "/notacgroup")]) }
        #expect(notCgroup?.message.contains("not a cgroup") == true)
    }

    @Test func rollupSumsByCgroupAndNamesTheUnread() throws {
        let s = try Fixture.result("snapshot-postgres-misaligned-6.18.json", as: SnapshotResult.self)
        let r = TargetRollup(targets: ["--comm postgres"], processes: s.processes,
                             unread: [UnreadProcess(pid: 9, reason: "exited"), UnreadProcess(pid: 10, reason: "exited")])
        #expect(r.total.processes == s.processes.count)
        #expect(r.total.pages.resident == s.processes.reduce(0) { $0 + $1.totals.resident })
        #expect(r.cgroups.reduce(0) { $0 + $1.processes } == s.processes.count)
        #expect(r.unreadNote == "2 process(es) of the target could not be read: exited (9 10)")
    }
}
