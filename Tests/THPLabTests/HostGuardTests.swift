import Foundation
import Testing
@testable import THPLab

/// The guard against a fake sysfs tree and a private state directory.
@Suite final class HostGuardTests {
    let base: String
    let root: String
    let state: String

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-test-\(UUID().uuidString)").path
        root = base + "/sysfs"
        state = base + "/state"
        try FileManager.default.createDirectory(atPath: root + "/khugepaged", withIntermediateDirectories: true)
        try "always within_size advise [never] deny force\n".write(toFile: root + "/shmem_enabled", atomically: false, encoding: .utf8)
        try "10000\n".write(toFile: root + "/khugepaged/scan_sleep_millisecs", atomically: false, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    func value(_ name: String) throws -> String {
        try String(contentsOfFile: root + "/" + name, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func journalsBeforeChangingAndRestoresOnRelease() throws {
        let g = try HostGuard.acquire(command: "test", stateDir: state, sysfs: THPSysfs(root: root), log: { _ in })
        let r = try g.setKnob("khugepaged/scan_sleep_millisecs", "10")
        #expect(r.old == "10000")
        #expect(try value("khugepaged/scan_sleep_millisecs") == "10")
        let journal = try #require(try HostJournal.load(g.journalPath))
        #expect(journal.knobs == [.init(name: "khugepaged/scan_sleep_millisecs", original: "10000")])
        // A second change keeps the first original.
        try g.setKnob("khugepaged/scan_sleep_millisecs", "20")
        #expect(try HostJournal.load(g.journalPath)?.knobs.count == 1)
        let log = g.release()
        #expect(log.contains { $0.outcome == .done && $0.text.contains("restored khugepaged/scan_sleep_millisecs") })
        #expect(try value("khugepaged/scan_sleep_millisecs") == "10000")
        #expect(!FileManager.default.fileExists(atPath: g.journalPath))
    }

    @Test func refusesInvalidValuesBeforeWriting() throws {
        let g = try HostGuard.acquire(command: "test", stateDir: state, sysfs: THPSysfs(root: root), log: { _ in })
        defer { g.release() }
        #expect(throws: THPLabError.self) { try g.setKnob("shmem_enabled", "sometimes") }
        #expect(throws: THPLabError.self) { try g.setKnob("khugepaged/scan_sleep_millisecs", "-1") }
        #expect(throws: THPLabError.self) { try g.setKnob("../shmem_enabled", "never") }
        #expect(try value("shmem_enabled").contains("[never]"))
        #expect(try HostJournal.load(g.journalPath) == nil)
    }

    @Test func staleJournalIsUndoneAtTheNextStart() throws {
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let leftover = state + "/leftover-file"
        _ = FileManager.default.createFile(atPath: leftover, contents: Data())
        try "10\n".write(toFile: root + "/khugepaged/scan_sleep_millisecs", atomically: false, encoding: .utf8)
        var stale = HostJournal(pid: 999_999, command: "run retract")
        stale.knobs = [.init(name: "khugepaged/scan_sleep_millisecs", original: "10000")]
        stale.resources = [.init(kind: .file, path: leftover)]
        try stale.save(state + "/journal.json")

        var lines: [String] = []
        let g = try HostGuard.acquire(command: "test", stateDir: state, sysfs: THPSysfs(root: root), log: { lines.append($0) })
        defer { g.release() }
        #expect(try value("khugepaged/scan_sleep_millisecs") == "10000")
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(lines.first?.contains("interrupted") == true)
        #expect(try HostJournal.load(g.journalPath) == nil)
    }

    /// A run SIGKILLed between writing its journal's `.tmp` and renaming it
    /// (seen in CI: `run mthp` killed at once): the change it was to record
    /// was never made, so the next start removes the half-written file and
    /// touches no knob; the run's renamed journal, if any, is undone.
    @Test func aHalfWrittenJournalIsRemovedAtTheNextStart() throws {
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        var half = HostJournal(pid: 999_998, command: "run mthp")
        half.knobs = [.init(name: "shmem_enabled", original: "always")]
        try half.save(state + "/journal-999998.json")
        try FileManager.default.moveItem(atPath: state + "/journal-999998.json", toPath: state + "/journal-999998.json.tmp")
        // A truncated one as well, cut mid-write.
        try "{ \"command\" : \"run mt".write(toFile: state + "/journal-999997.json.tmp", atomically: false, encoding: .utf8)
        #expect(HostGuard.staleJournals(stateDir: state).count == 2)
        var lines: [String] = []
        let g = try HostGuard.acquire(command: "test", stateDir: state, sysfs: THPSysfs(root: root), log: { lines.append($0) })
        defer { g.release() }
        #expect(try value("shmem_enabled").contains("[never]"), "the knob it was about to change is left alone")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state).filter { $0.hasPrefix("journal") }.isEmpty)
        #expect(lines.filter { $0.contains("did not finish") }.count == 2, "\(lines)")
    }

    /// A directory that cannot be removed (here: not empty, as a cgroup
    /// with a process still in it) stays journaled through undo and
    /// release, and the next start tries again and succeeds once it can.
    @Test func aFailedUndoStaysJournaledForTheNextStart() throws {
        let dir = base + "/busy"
        let g = try HostGuard.acquire(command: "test", stateDir: state, sysfs: THPSysfs(root: root), log: { _ in })
        try g.create(.directory, dir) { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false) }
        _ = FileManager.default.createFile(atPath: dir + "/inside", contents: Data())
        g.undo(.directory, dir)
        #expect(try HostJournal.load(g.journalPath)?.resources.count == 1, "dropped from the journal though not removed")
        let log = g.release()
        #expect(log.contains { $0.failed })
        #expect(FileManager.default.fileExists(atPath: g.journalPath))
        try FileManager.default.removeItem(atPath: dir + "/inside")
        // As the next start finds it once this process is gone.
        try FileManager.default.moveItem(atPath: g.journalPath, toPath: state + "/journal.json")
        var lines: [String] = []
        let next = try HostGuard.acquire(command: "test", stateDir: state, sysfs: THPSysfs(root: root), log: { lines.append($0) })
        defer { next.release() }
        #expect(!FileManager.default.fileExists(atPath: dir), "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: state + "/journal.json"))
    }

    @Test func secondGuardWaitsThenFailsWithABound() throws {
        let g = try HostGuard.acquire(command: "first", stateDir: state, sysfs: THPSysfs(root: root), log: { _ in })
        defer { g.release() }
        // flock locks belong to the open file description: a second open in
        // this process conflicts like another process would.
        var said: [String] = []
        let e = #expect(throws: THPLabError.self) {
            try HostGuard.acquire(command: "second", stateDir: state, sysfs: THPSysfs(root: root), waitSeconds: 1,
                                  log: { said.append($0) })
        }
        #expect(e?.exitCode == 3)
        #expect(said.first?.contains("waiting") == true)
    }
}

@Suite struct FileIOTests {
    @Test func writingResultsToADeviceKeepsTheDevice() throws {
        try FileIO.writeAtomically("/dev/null", Array("{}\n".utf8))
        #expect(!Sys.isRegularFile("/dev/null"))
        #expect(!FileManager.default.fileExists(atPath: "/dev/null.tmp"))
    }

    @Test func atomicWriteReplacesAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-io-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileIO.writeAtomically(path, Array("one".utf8))
        try FileIO.writeAtomically(path, Array("two".utf8))
        #expect(try FileIO.read(path) == "two")
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }
}

/// Where thplab makes a memory cgroup: v1's hierarchy with memory on this
/// lab's host (cgroup2 there holds only hugetlb), the cgroup2 root in a
/// virtme-ng guest whose root offers memory, nothing without either.
@Suite struct MemoryCgroupTests {
    @Test func prefersAV1HierarchyWithMemory() throws {
        let mounts = try Fixture.text("mounts-cgroup-v1-6.18.txt")
        let found = MemoryCgroup.locate(mountsText: mounts) { _ in "hugetlb" }
        #expect(found?.root == "/sys/fs/cgroup/memory" && found?.version == .v1)
    }

    @Test func takesTheV2RootWhenItOffersMemory() throws {
        let mounts = try Fixture.text("mounts-cgroup-v2-guest-6.12.txt")
        let found = MemoryCgroup.locate(mountsText: mounts) { $0 == "/sys/fs/cgroup/cgroup.controllers" ? "cpuset cpu io memory hugetlb pids rdma misc\n" : nil }
        #expect(found?.root == "/sys/fs/cgroup" && found?.version == .v2)
        #expect(MemoryCgroup.locate(mountsText: mounts) { _ in "cpu io\n" } == nil, "a v2 root without memory")
    }

    @Test func noCgroupMountsNoCgroup() {
        #expect(MemoryCgroup.locate(mountsText: "proc /proc proc rw 0 0\n") == nil)
    }
}
