import Foundation
import Testing

extension KernelSuite {
/// `thplab knobs` on the real sysfs files: every test leaves them as found.
@Suite struct KnobsKernelTests {
    static let knob = "khugepaged/max_ptes_none"

    @Test func setShowRestore() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let before = HostState.value(Self.knob)
        let set = try Thplab.run(["knobs", "set", "max_ptes_none=100", "scan_sleep_millisecs=5000"], timeout: 30)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.contains("khugepaged/max_ptes_none: \(before) -> 100"))
        #expect(HostState.value(Self.knob) == "100")
        let show = try Thplab.run(["knobs", "show"], timeout: 30)
        #expect(show.stdout.contains("yes, was \(before)"))
        // A run in between keeps the user's values and puts back its own.
        let run = try Thplab.run(["run", "retract", "--trigger", "khugepaged", "--json", "-"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(HostState.value(Self.knob) == "100")
        #expect(HostState.value("khugepaged/scan_sleep_millisecs") == "5000")
        let restore = try Thplab.run(["knobs", "restore"], timeout: 30)
        #expect(restore.status == 0)
        #expect(restore.stdout.contains("restored khugepaged/max_ptes_none: 100 -> \(before)"))
        host.expectRestored()
    }

    @Test func invalidPairsWriteNothing() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        for args in [["max_ptes_none=100", "max_ptes_swap=9999"], ["max_ptes_none=100", "../enabled=always"],
                     ["max_ptes_none=100", "nonsense=1"], ["shmem_enabled=sometimes"]] {
            let r = try Thplab.run(["knobs", "set"] + args, timeout: 30)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(HostState.value(Self.knob) == host.knobs[Self.knob]?.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        host.expectRestored()
    }

    @Test func onlyWhileACommandRuns() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(["knobs", "set", "max_ptes_none=100", "--", "sh", "-c",
                                "cat /sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none; exit 7"], timeout: 30)
        #expect(r.status == 7, "exits with the command's status: \(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "100")
        let missing = try Thplab.run(["knobs", "set", "max_ptes_none=100", "--", "/nonexistent/command"], timeout: 30)
        #expect(missing.status == 127, "like a shell: \(missing.stderr)")
        #expect(missing.stderr.contains("cannot run"))
        host.expectRestored()
    }

    @Test func aThplabRunUnderKnobsSetShareItsLock() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let r = try Thplab.run(["knobs", "set", "max_ptes_none=255", "--", Thplab.binary, "run", "sparse", "--present", "256",
                                "--extents", "2", "--json", "-"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("another thplab"), "the nested run must not wait for its parent's lock")
        let json = try r.json()
        #expect(json["knobs_in_force"].flatMap { ($0 as? [String: String])?["khugepaged/max_ptes_none"] } == "255")
        #expect(json["collapsed"] as? Int == 0, "256 present < 512 - 255")
        host.expectRestored()
    }

    @Test func sigkillDuringACommandLeavesAJournalThatRestoreUndoes() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let (p, o, e) = try Thplab.start(["knobs", "set", "max_ptes_none=100", "--", "sleep", "101"])
        let deadline = Date().addingTimeInterval(10)
        while HostState.value(Self.knob) != "100" && Date() < deadline { usleep(20_000) }
        #expect(HostState.value(Self.knob) == "100")
        kill(p.processIdentifier, SIGKILL)
        _ = Thplab.finish(p, o, e, timeout: 20)
        // The command died with thplab (PR_SET_PDEATHSIG through `thplab exec`).
        let stillThere = try Process.run(URL(fileURLWithPath: "/usr/bin/pgrep"), arguments: ["-f", "^sleep 101$"])
        stillThere.waitUntilExit()
        #expect(stillThere.terminationStatus == 1, "sleep 101 outlived thplab")
        #expect(HostState.value(Self.knob) == "100")
        #expect(HostState.journalExists)
        let r = try Thplab.run(["knobs", "restore"], timeout: 30)
        #expect(r.status == 0)
        host.expectRestored()
    }

    @Test func concurrentSetsWaitForEachOther() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let first = try Thplab.start(["knobs", "set", "max_ptes_none=100", "--", "sleep", "1"])
        usleep(300_000)
        let second = try Thplab.run(["knobs", "set", "max_ptes_none=200", "--", "sh", "-c",
                                     "cat /sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none"], timeout: 60)
        let one = Thplab.finish(first.0, first.1, first.2, timeout: 30)
        #expect(one.status == 0)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("waiting"))
        #expect(second.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "200")
        host.expectRestored()
    }

    @Test func saveAndLoadAProfile() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-profile-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try Thplab.run(["knobs", "save", file], timeout: 30).status == 0)
        #expect(try Thplab.run(["knobs", "set", "max_ptes_none=100"], timeout: 30).status == 0)
        let load = try Thplab.run(["knobs", "load", file], timeout: 30)
        #expect(load.status == 0, "\(load.stderr)")
        #expect(HostState.value(Self.knob) == host.knobs[Self.knob]?.trimmingCharacters(in: .whitespacesAndNewlines))
        // A profile with one bad line changes nothing.
        try (try String(contentsOfFile: file, encoding: .utf8) + "max_ptes_swap=9999\n").write(toFile: file, atomically: false, encoding: .utf8)
        #expect(try Thplab.run(["knobs", "set", "max_ptes_none=100"], timeout: 30).status == 0)
        let bad = try Thplab.run(["knobs", "load", file], timeout: 30)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("line"))
        #expect(HostState.value(Self.knob) == "100")
        #expect(try Thplab.run(["knobs", "restore"], timeout: 30).status == 0)
        host.expectRestored()
    }
}
}
