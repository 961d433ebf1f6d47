import Foundation
import Testing

/// What happens to the host when a run is killed, interrupted, or given bad
/// input. Serialized with the other kernel tests through the lock and the
/// `.serialized` trait.
extension KernelSuite {
@Suite struct SafetyKernelTests {
    /// Starts a khugepaged run that will wait (one MADV_HUGEPAGE: nothing
    /// collapses) and returns once its knobs are changed and it is waiting.
    func startWaitingRun() throws -> (Process, Pipe, Pipe) {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        let run = try Thplab.start(["run", "retract", "--backing", "tmpfs", "--trigger", "khugepaged",
                                    "--madvise-times", "1", "--full-wait", "--timeout", "60"])
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if HostState.value("khugepaged/scan_sleep_millisecs") == "10", !HostState.thplabInstances().isEmpty,
               !HostState.workers().isEmpty { break }
            usleep(50_000)
        }
        try #require(HostState.value("khugepaged/scan_sleep_millisecs") == "10", "the run never changed its knobs")
        usleep(300_000)
        return run
    }

    /// Starts a waiting run and sends it `signal`.
    func interruptWaitingRun(with signal: Int32) throws -> Invocation {
        let (p, o, e) = try startWaitingRun()
        kill(p.processIdentifier, signal)
        return Thplab.finish(p, o, e, timeout: 20)
    }

    @Test func sigkillLeavesAJournalThatTheNextStartRestores() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try interruptWaitingRun(with: SIGKILL)
        #expect(r.status == SIGKILL)
        // The workers die with their parent (PR_SET_PDEATHSIG).
        let deadline = Date().addingTimeInterval(5)
        while !HostState.workers().isEmpty && Date() < deadline { usleep(50_000) }
        #expect(HostState.workers().isEmpty)
        // The host is still changed, and the journal says how.
        #expect(HostState.value("khugepaged/scan_sleep_millisecs") == "10")
        #expect(HostState.journalExists)
        #expect(!HostState.thplabMounts().isEmpty)

        let restore = try Thplab.run(["knobs", "restore"], timeout: 60)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("interrupted"))
        host.expectRestored()
    }

    /// A tracefs instance named for a pid that is gone, with no journal
    /// naming it (one was found so on the CI host, and it failed every
    /// later test's check): the next start that may change the host
    /// removes it and says so; an instance of a live pid is left alone.
    @Test func theNextStartRemovesAnInstanceOfAGonePidThatNoJournalNames() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        // tracefs as the host has it, or mounted for the test (and put back).
        let tracing = "/sys/kernel/tracing", root = tracing + "/instances/"
        let mountedHere = !FileManager.default.fileExists(atPath: root)
        if mountedHere { try #require(Shell.succeeds("mount -t tracefs tracefs \(tracing)"), "cannot mount tracefs") }
        let orphan = root + "thplab-\(gone.processIdentifier)", live = root + "thplab-\(getpid())"
        defer {
            rmdir(orphan)
            rmdir(live)
            if mountedHere { _ = Shell.succeeds("umount \(tracing)") }
        }
        try #require(mkdir(orphan, 0o755) == 0 && mkdir(live, 0o755) == 0, "cannot make the test's tracefs instances")
        let r = try Thplab.run(["knobs", "restore"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect((r.stdout + r.stderr).contains("removed \(orphan)"), "\(r.stdout)\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: live), "the instance of a live pid stays")
        rmdir(live)
        if mountedHere { _ = Shell.succeeds("umount \(tracing)") }
        host.expectRestored()
    }

    @Test func nextRunRestoresAKilledRunByItself() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        _ = try interruptWaitingRun(with: SIGKILL)
        let r = try Thplab.run(["run", "retract", "--json", "-"], timeout: 120)
        #expect(r.status == 0)
        #expect(r.stderr.contains("interrupted thplab run"))
        host.expectRestored()
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func signalsRestoreAtOnce(signal: Int32) throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try interruptWaitingRun(with: signal)
        #expect(!r.timedOut)
        #expect(r.status == 128 + signal)
        #expect(r.stderr.contains("put back"))
        host.expectRestored()
    }

    static let badInputs: [[String]] = [
        ["--size", "0"],
        ["--size", "3M"],
        ["--size", "1000G"],
        ["--size", "lots"],
        ["--backing", "nvme"],
        ["--trigger", "sometimes"],
        ["--backing", "file", "--dir", "/nonexistent/thplab"],
        ["--processes", "0"],
        ["--cow-pages", "1025"],
        ["--backing", "tmpfs", "--tmpfs-size", "2M"],  // populate fails: no SIGBUS, exit 2
        ["--timeout", "0"],
        ["--json", "/nonexistent/thplab/result.json"],  // refused before the run, not after it
        ["--html", "/nonexistent/thplab/report.html"],
        ["--format", "csv"],  // a retract result has no CSV form: refused before the run
        ["--format", "json", "--json", "-"],
    ]

    @Test(arguments: badInputs)
    func badInputIsRefusedCleanly(args: [String]) throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(["run", "retract"] + args, timeout: 60)
        #expect(r.status == 2, "\(args): exit \(r.status) \(r.stderr)")
        #expect(!r.stderr.isEmpty)
        #expect(!r.stderr.contains("Fatal error"))
        host.expectRestored()
    }

    @Test func doctorProbesThisHost() throws {
        try #require(KernelGate.available)
        let r = try Thplab.run(["doctor", "--json", "-"], timeout: 60)
        #expect(r.status == 0)
        let json = try r.json()
        let checks = json["checks"] as? [[String: Any]] ?? []
        let byName = Dictionary(uniqueKeysWithValues: checks.compactMap { c in (c["name"] as? String).map { ($0, c) } })
        #expect(byName["MADV_COLLAPSE"]?["ok"] as? Bool == true)
        #expect(byName["CAP_SYS_ADMIN"]?["ok"] as? Bool == true)
        #expect(byName["NUMA (libnuma)"] != nil)
        #expect((json["knobs"] as? [String: Any])?["shmem_enabled"] != nil)
        #expect((json["scenarios"] as? [[String: Any]])?.isEmpty == false)
        // The capability table is this kernel's own files, as the test reads them.
        let caps = try #require(json["capabilities"] as? [String: Any])
        let thp = "/sys/kernel/mm/transparent_hugepage"
        let sizes = ((try? FileManager.default.contentsOfDirectory(atPath: thp)) ?? []).filter { $0.hasPrefix("hugepages-") }
        #expect(Set(caps["size_directories"] as? [String] ?? []) == Set(sizes))
        let stats = (try? FileManager.default.contentsOfDirectory(atPath: thp + "/hugepages-2048kB/stats")) ?? []
        #expect(Set(caps["stats_files"] as? [String] ?? ["?"]) == Set(stats))
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        #expect(caps["status_thp_enabled"] as? Bool == status.contains("THP_enabled:"))
        #expect(caps["pagemap_scan"] as? Bool == (byName["PAGEMAP_SCAN"]?["ok"] as? Bool))
        #expect(caps["process_madvise_collapse"] as? Bool == true, "root on a kernel with MADV_COLLAPSE")
        #expect((caps["smaps_fields"] as? [String] ?? []).contains("FilePmdMapped"))
    }

    @Test func withoutRootRunSaysSoAndDoctorStillWorks() throws {
        try #require(KernelGate.available)
        let nobody = 65534
        let run = try Thplab.run(["run", "retract"], timeout: 60, asUser: nobody)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("root"))
        let doctor = try Thplab.run(["doctor"], timeout: 60, asUser: nobody)
        #expect(doctor.status == 0, "\(doctor.stderr)")
        #expect(doctor.stdout.contains("not root"))
        try? FileManager.default.removeItem(atPath: "/tmp/thplab-nonroot-test")
    }
}
}
