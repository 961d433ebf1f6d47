import Foundation
import Testing

extension KernelSuite {
/// Two at once: two runs, a sweep and a `knobs set -- COMMAND` started
/// together are put in order by the lock, each with its own correct result,
/// and the knobs end as they began; `snapshot` and `export` meanwhile
/// neither take the lock nor wait for it.
@Suite struct ConcurrencyKernelTests {
    @Test func theLockOrdersRunsSweepsAndKnobSetsAndReadersNeverWait() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let started = try [
            Thplab.start(["run", "retract", "--json", "-"]),
            Thplab.start(["run", "collapse", "--extents", "2", "--json", "-"]),
            Thplab.start(["sweep", "sparse", "--present", "256", "--extents", "2", "--knob", "max_ptes_none=255,256", "--json", "-"]),
            Thplab.start(["knobs", "set", "max_ptes_none=100", "--", "cat", HostState.root + "/khugepaged/max_ptes_none"]),
        ]
        // While they queue for the lock: the readers answer at once.
        usleep(200_000)
        let own = "\(getpid())"
        for args in [["snapshot", "--pid", own, "--json", "-"], ["export", "--pid", own]] {
            let r = try Thplab.run(args, timeout: 30)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("another thplab"), "\(args) waited for the lock: \(r.stderr)")
        }
        let done = started.map { Thplab.finish($0.0, $0.1, $0.2, timeout: 180) }
        for (i, r) in done.enumerated() {
            #expect(!r.timedOut && r.status == 0, "command \(i): exit \(r.status) \(r.stderr.suffix(1500))")
        }
        let waited = done.filter { $0.stderr.contains("another thplab") }.count
        #expect(waited >= 1, "four commands started together, none waited for the lock")
        let retract = try done[0].json()
        #expect(retract["ok"] as? Bool == true, "\(retract["differences"] ?? "")")
        let collapse = try done[1].json()
        #expect(collapse["collapsed"] as? Int == 2)
        let sweep = try done[2].json()
        #expect((sweep["checks"] as? [[String: Any]])?.allSatisfy { $0["held"] as? Bool == true } == true, "\(sweep["checks"] ?? "")")
        // The command saw the knob its own thplab set, not another's.
        #expect(done[3].stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "100")
        print("two at once: 4 commands started together, \(waited) waited for the lock, 0 wrong results; snapshot and export did not wait")
        host.expectRestored()
    }
}
}
