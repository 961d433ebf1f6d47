import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// thplab under resource limits: a state directory it cannot journal in, a
/// tiny RLIMIT_NOFILE, a memory cgroup too small for the region. Each
/// either works or refuses clearly, and leaves nothing behind.
@Suite struct ResourceLimitKernelTests {
    /// A full and a read-only state directory (tmpfs mounts of the test's):
    /// every command that changes knobs refuses with exit 3 and a reason,
    /// and no knob moved.
    @Test(arguments: ["full", "read-only"])
    func noJournalNoChange(state: String) throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let dir = NSTemporaryDirectory() + "state-\(state)-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { _ = Shell.succeeds("umount \(dir)"); try? FileManager.default.removeItem(atPath: dir) }
        if state == "full" {
            // Room for the lock file, none for a journal.
            try #require(Shell.succeeds("mount -t tmpfs -o size=4k,mode=0700 statetest \(dir) && touch \(dir)/lock && (dd if=/dev/zero of=\(dir)/fill bs=4k count=4 || true)"))
        } else {
            try #require(Shell.succeeds("mount -t tmpfs -o ro,size=64k,mode=0700 statetest \(dir)"))
        }
        for args in [["run", "retract", "--trigger", "khugepaged"], ["knobs", "set", "max_ptes_none=100"],
                     ["sweep", "sparse", "--extents", "1", "--knob", "max_ptes_none=255,256"]] {
            let r = try Thplab.run(args, timeout: 60, environment: ["THPLAB_STATE_DIR": dir])
            #expect(r.status == 3, "\(state) \(args): exit \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(state == "full" ? "cannot write the journal" : "cannot open the lock file"), "\(state) \(args): \(r.stderr)")
            #expect(r.stderr.contains("THPLAB_STATE_DIR"), "the message says what to do: \(r.stderr)")
        }
        _ = Shell.succeeds("umount \(dir)")
        host.expectRestored()
    }

    /// 32 file descriptors: thplab works (its worker spawn once moved fds
    /// to 100 and up, which a limit of 32 refused with EINVAL) and leaves
    /// the host as it was.
    @Test(arguments: [["run", "retract"], ["run", "retract", "--trigger", "khugepaged"], ["run", "swap", "--extents", "1"],
                      ["run", "bloat", "--extents", "2"], ["run", "mthp", "--memory", "anon"], ["snapshot", "--all"], ["doctor"]])
    func thirtyTwoFileDescriptors(args: [String]) throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(args + ["--json", "-"], timeout: 120, via: ["/usr/bin/prlimit", "--nofile=32:32", "--"])
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(args): exit \(r.status) \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"), "\(args): \(r.stderr)")
        print("RLIMIT_NOFILE 32: thplab \(args.joined(separator: " ")): exit \(r.status)\(r.status == 0 ? "" : ", " + (r.stderr.split(separator: "\n").last.map(String.init) ?? ""))")
        host.expectRestored()
    }

    /// A memory cgroup of the test's whose limit the region does not fit:
    /// the run refuses before it makes anything (a populate under the
    /// limit is the OOM killer's SIGKILL, not an error), naming the cgroup.
    @Test(arguments: [["run", "retract", "--size", "256M"], ["run", "collapse", "--extents", "64"]])
    func aMemoryCgroupTooSmallIsRefusedFirst(args: [String]) throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
        let (root, version) = try #require(MemoryCgroup.locate(mountsText: mounts), "no memory controller")
        let cg = root + "/tight-\(getpid())"
        try FileManager.default.createDirectory(atPath: cg, withIntermediateDirectories: false)
        defer { _ = Shell.succeeds("rmdir \(cg)") }
        try "\(64 << 20)".write(toFile: cg + (version == .v1 ? "/memory.limit_in_bytes" : "/memory.max"), atomically: false, encoding: .utf8)
        // The shell joins the cgroup, then becomes thplab.
        let r = try Thplab.run(args, timeout: 120, via: ["/bin/sh", "-c", "echo $$ > \(cg)/cgroup.procs && exec \"$@\"", "sh"])
        #expect(r.status == 2, "\(args): exit \(r.status) \(r.stderr)")
        #expect(r.stderr.contains("memory cgroup /tight-\(getpid())"), "\(r.stderr)")
        #expect((try? String(contentsOfFile: cg + "/cgroup.procs", encoding: .utf8))?.isEmpty ?? true)
        host.expectRestored()
    }
}
}
