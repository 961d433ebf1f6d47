import Foundation
import Testing
@testable import THPLab

/// What `thplab doctor` calls left over: names carrying the pid of a thplab
/// that no longer runs, in every place a run makes something.
@Suite struct LeftoversTests {
    @Test(arguments: [
        ("thplab-4242", Int32?(4242)), ("thplab-4242-tmpfs", 4242), (".thplab-4242-object", 4242), ("thplab-swap-4242", 4242),
        ("thplab-4242-bloat", 4242), ("thplab-4242-r1", 4242),
        ("thplab-test-log.abc123", nil), ("thplab-deb-x1", nil), ("thplab-4242abc", nil), ("thplab-", nil), ("thplab.prom", nil),
        ("other-4242", nil), ("thplab-99999999999999", nil),
    ])
    func ownerPid(name: String, pid: Int32?) {
        #expect(Leftovers.ownerPid(Substring(name)) == pid, "\(name)")
    }

    /// A fake host: every place holds one thing of a dead thplab (pid 4242)
    /// and one of a live one (pid 77); only the dead one's are reported.
    @Test func findsWhatADeadThplabLeftAndNothingOfALiveOne() throws {
        let root = try Sys.makeTemporaryDirectory(prefix: NSTemporaryDirectory() + "leftovers-")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        for dir in ["state", "tmp", "shm", "tracing/instances", "cgroup/memory", "proc/500", "proc/501"] {
            try fm.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
        for name in ["tmp/thplab-4242-tmpfs", "tmp/thplab-77-tmpfs", "tracing/instances/thplab-4242", "tracing/instances/thplab-77",
                     "tracing/instances/someone-else", "cgroup/memory/thplab-4242-bloat", "cgroup/memory/thplab-77-fallback"] {
            try fm.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: true)
        }
        for name in ["shm/thplab-4242", "shm/thplab-77", "tmp/thplab-test-log.x", "state/journal-4242.json", "state/journal-77.json"] {
            _ = fm.createFile(atPath: "\(root)/\(name)", contents: Data("{}".utf8))
        }
        try "cgroup \(root)/cgroup/memory cgroup rw,memory 0 0\ntmpfs \(root)/tmp/thplab-4242-tmpfs tmpfs rw 0 0\ntmpfs \(root)/tmp/thplab-77-tmpfs tmpfs rw 0 0\n"
            .write(toFile: "\(root)/mounts", atomically: true, encoding: .utf8)
        try "Filename\tType\tSize\tUsed\tPriority\n/var/tmp/thplab-swap-4242 file 262140 0 -2\n/var/tmp/thplab-swap-77 file 262140 0 -3\n"
            .write(toFile: "\(root)/swaps", atomically: true, encoding: .utf8)
        // Two workers: 500's parent is the dead 4242, 501's the live 77.
        for (pid, parent) in [(500, 4242), (501, 77)] {
            try Data("/usr/bin/thplab\0worker\0".utf8).write(to: URL(fileURLWithPath: "\(root)/proc/\(pid)/cmdline"))
            try "\(pid) (thplab) S \(parent) 1 1 0".write(toFile: "\(root)/proc/\(pid)/stat", atomically: true, encoding: .utf8)
        }
        var places = Leftovers.Places()
        places.stateDir = root + "/state"
        places.mounts = root + "/mounts"
        places.swaps = root + "/swaps"
        places.directories = [root + "/tmp", root + "/shm"]
        places.tracefsRoots = [root + "/tracing"]
        places.proc = root + "/proc"
        let items = Leftovers.find(places) { $0 == 77 }
        // staleJournals asks /proc for liveness itself: 77 is no thplab there, so both journals are stale.
        #expect(items.filter { $0.kind != .journal } == [
            .init(kind: .mount, path: "\(root)/tmp/thplab-4242-tmpfs"),
            .init(kind: .file, path: "\(root)/tmp/thplab-4242-tmpfs"),
            .init(kind: .file, path: "\(root)/shm/thplab-4242"),
            .init(kind: .swap, path: "/var/tmp/thplab-swap-4242"),
            .init(kind: .tracefsInstance, path: "\(root)/tracing/instances/thplab-4242"),
            .init(kind: .cgroup, path: "\(root)/cgroup/memory/thplab-4242-bloat"),
            .init(kind: .worker, path: "pid 500"),
        ])
        #expect(items.contains(.init(kind: .journal, path: "\(root)/state/journal-4242.json")))
        // Everything alive: nothing is left over but the journals.
        #expect(Leftovers.find(places) { _ in true }.allSatisfy { $0.kind == .journal })
    }

    @Test func doctorSaysNothingIsLeftOrNamesEachThing() {
        let clean = DoctorProbe.leftoverChecks([])
        #expect(clean.count == 1 && clean[0].ok == true)
        let dirty = DoctorProbe.leftoverChecks([.init(kind: .cgroup, path: "/sys/fs/cgroup/memory/thplab-4242-bloat"), .init(kind: .worker, path: "pid 500")])
        #expect(dirty.map(\.ok) == [false, false])
        #expect(dirty[0].detail.contains("thplab-4242-bloat") && dirty[0].detail.contains("knobs restore"))
        #expect(dirty[1].detail.contains("kill it"))
    }
}

/// The room a size must fit in: the least headroom under any memory cgroup
/// limit from thplab's own cgroup up to the root.
@Suite struct MemoryRoomTests {
    @Test func theTightestLimitOnTheWayUpWins() {
        // v1 as this host has it: no limit at the root (LLONG_MAX rounded to a page).
        let v1 = ["/cg/memory.limit_in_bytes": "9223372036854771712\n", "/cg/memory.usage_in_bytes": "5000000000\n",
                  "/cg/a/memory.limit_in_bytes": "\(256 << 20)\n", "/cg/a/memory.usage_in_bytes": "\(100 << 20)\n",
                  "/cg/a/b/memory.limit_in_bytes": "\(64 << 20)\n", "/cg/a/b/memory.usage_in_bytes": "\(16 << 20)\n"]
        let room = MemoryRoom.cgroupHeadroom(root: "/cg", path: "/a/b", version: .v1) { v1[$0] }
        #expect(room?.kb == 48 << 10)
        #expect(room?.source.contains("/a/b") == true && room?.source.contains("64 MiB") == true)
        // v2: "max" is no limit; the parent's is tighter than the child's.
        let v2 = ["/u/memory.max": "max\n", "/u/memory.current": "1\n", "/u/s/memory.max": "\(32 << 20)\n",
                  "/u/s/memory.current": "\(30 << 20)\n", "/u/s/t/memory.max": "max\n", "/u/s/t/memory.current": "0\n"]
        #expect(MemoryRoom.cgroupHeadroom(root: "/u", path: "/s/t", version: .v2) { v2[$0] }?.kb == 2 << 10)
        // Nothing limited: no figure, MemAvailable stands.
        #expect(MemoryRoom.cgroupHeadroom(root: "/u", path: "/", version: .v2) { v2[$0] } == nil)
    }

    @Test func aSizeAboveTheCgroupsRoomIsRefusedNamingTheCgroup() {
        var o = RetractOptions()
        o.own.size = 256 << 20
        let room = MemoryRoom(kb: 48 << 10, source: "the limit of memory cgroup /a/b (v1): 64 MiB, 16 MiB in use")
        let e = #expect(throws: THPLabError.self) { try o.validate(room: room) }
        #expect(e?.exitCode == 2)
        #expect(e?.message.contains("memory cgroup /a/b") == true, "\(e?.message ?? "")")
    }

    /// Instances removed at a start: a pid with no process left, never a
    /// live one's, never a name thplab does not give.
    @Test func instancesOfPidsThatAreGone() throws {
        let root = try Sys.makeTemporaryDirectory(prefix: NSTemporaryDirectory() + "instances-")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for dir in ["tracing/instances/thplab-4242", "tracing/instances/thplab-77", "tracing/instances/someone-else",
                    "tracing/instances/thplab-test-x", "proc/77"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
        #expect(Leftovers.deadPidInstances(roots: [root + "/tracing"], proc: root + "/proc") == [root + "/tracing/instances/thplab-4242"])
    }
}
