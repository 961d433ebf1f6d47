import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// A kill at every step: each command that changes the host runs once to
/// learn its progress lines, then again and again, signalled right after
/// one of them or at a random moment. After SIGKILL the next thplab start
/// (`knobs restore`) must put the host back; after SIGTERM or SIGINT the
/// command must have done so itself before exiting, and said so. Either
/// way `thplab doctor` finds nothing left over, and every knob, mount,
/// swap area, cgroup, tracefs instance and worker is as before.
///
/// CI runs a fixed sample of the points (`KillPoints.sample`: the first,
/// middle and last line and a random moment under SIGKILL, the middle line
/// and a random moment under SIGTERM, the last line under SIGINT);
/// THPLAB_KILL_POINTS=all (scripts/hardening) runs every line and two
/// random moments under each of the three signals.
@Suite struct KillHarnessKernelTests {
    /// The commands, with options that keep each run short. `run numa`
    /// needs two nodes (this host refuses it before changing anything);
    /// `vm` is VMKernelTests.sigtermStopsTheGuestAndItsQemu's.
    static let commands: [(label: String, args: [String])] = [
        ("run retract", ["run", "retract"]),
        ("run retract --trigger khugepaged", ["run", "retract", "--trigger", "khugepaged", "--timeout", "30"]),
        ("run swap", ["run", "swap", "--swapped", "64", "--extents", "1", "--timeout", "30"]),
        ("run bloat", ["run", "bloat", "--extents", "2", "--trigger", "madvise"]),
        ("run mthp", ["run", "mthp", "--memory", "anon"]),
        ("sweep sparse", ["sweep", "sparse", "--extents", "2", "--present", "256", "--knob", "max_ptes_none=255,256", "--progress"]),
        ("knobs set -- run retract", ["knobs", "set", "max_ptes_none=100", "--", Thplab.binary, "run", "retract",
                                      "--trigger", "khugepaged", "--timeout", "30"]),
    ]

    /// A started thplab whose stderr lines are counted as they come.
    final class Watched: @unchecked Sendable {
        let process: Process
        private let text = Locked(Data())
        private let done = DispatchSemaphore(value: 0)

        init(_ args: [String]) throws {
            process = Process()
            process.executableURL = URL(fileURLWithPath: Thplab.binary)
            process.arguments = args
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            let err = Pipe()
            process.standardError = err
            try process.run()
            DispatchQueue.global().async { [self] in
                let h = err.fileHandleForReading
                while true {
                    let d = h.availableData
                    if d.isEmpty { break }
                    text.update { $0.append(d) }
                }
                done.signal()
            }
        }

        var lines: Int { text.get().reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } }

        /// Waits (bounded) until `n` lines are out or the process ended.
        func waitForLine(_ n: Int, timeout: Double) {
            let deadline = Date().addingTimeInterval(timeout)
            while lines < n && process.isRunning && Date() < deadline { usleep(1_000) }
        }

        /// Waits (bounded) for the end; SIGKILL past the bound.
        func finish(timeout: Double) -> (status: Int32, signalled: Bool, stderr: String) {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            _ = done.wait(timeout: .now() + 10)
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal, String(decoding: text.get(), as: UTF8.self))
        }
    }

    /// Where to signal: after progress line `line`, or `delay` seconds in.
    struct KillPoint: CustomStringConvertible {
        var signal: Int32
        var line: Int?
        var delay: Double = 0
        var description: String {
            let name = [SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT"][signal] ?? "signal \(signal)"
            return "\(name) " + (line.map { "after line \($0)" } ?? String(format: "at %.2f s", delay))
        }
    }

    enum KillPoints {
        static var all: Bool { ProcessInfo.processInfo.environment["THPLAB_KILL_POINTS"] == "all" }

        static func random(_ signal: Int32, within seconds: Double) -> KillPoint {
            KillPoint(signal: signal, line: nil, delay: Double.random(in: 0.01...max(0.02, seconds)))
        }

        /// CI's fixed sample for a command that printed `steps` lines in `seconds`.
        static func sample(steps: Int, seconds: Double) -> [KillPoint] {
            let middle = (steps + 1) / 2
            return [KillPoint(signal: SIGKILL, line: 1), KillPoint(signal: SIGKILL, line: middle), KillPoint(signal: SIGKILL, line: steps),
                    random(SIGKILL, within: seconds),
                    KillPoint(signal: SIGTERM, line: middle), random(SIGTERM, within: seconds),
                    KillPoint(signal: SIGINT, line: steps)]
        }

        /// Every line and two random moments, under each signal.
        static func every(steps: Int, seconds: Double) -> [KillPoint] {
            [SIGKILL, SIGTERM, SIGINT].flatMap { signal in
                (1...steps).map { KillPoint(signal: signal, line: $0) } + [random(signal, within: seconds), random(signal, within: seconds)]
            }
        }
    }

    /// What doctor says is left over (its "left over" checks that failed).
    func doctorLeftovers() throws -> [String] {
        let r = try Thplab.run(["doctor", "--json", "-"], timeout: 60)
        let checks = (try r.json())["checks"] as? [[String: Any]] ?? []
        let mine = checks.filter { $0["name"] as? String == "left over" }
        #expect(!mine.isEmpty, "doctor has no 'left over' check")
        return mine.filter { $0["ok"] as? Bool != true }.map { $0["detail"] as? String ?? "?" }
    }

    /// thplab processes other than the test's own children: a killed
    /// `knobs set --`'s command, still putting back its own changes.
    func otherThplabs(than pid: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }.filter { p in
            guard p != pid, let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(p)/cmdline")) else { return false }
            return String(decoding: cmd.prefix { $0 != 0 }, as: UTF8.self).hasSuffix("thplab")
        }
    }

    @Test(arguments: commands.indices)
    func aKillAtEveryStepLeavesNothing(index: Int) throws {
        try #require(KernelGate.available)
        let (label, args) = Self.commands[index]
        let host = HostSnapshot()
        // The dry run: its progress lines and how long it takes.
        let t0 = Date()
        let first = try Watched(args).finish(timeout: 120)
        let seconds = Date().timeIntervalSince(t0)
        try #require(first.status == 0, "\(label): \(first.stderr)")
        let steps = first.stderr.split(separator: "\n").count
        try #require(steps >= 3, "\(label) printed \(steps) progress lines: \(first.stderr)")
        host.expectRestored()

        let points = KillPoints.all ? KillPoints.every(steps: steps, seconds: seconds) : KillPoints.sample(steps: steps, seconds: seconds)
        var leftovers = 0, putBack = 0, restored = 0
        for point in points {
            let w = try Watched(args)
            if let line = point.line { w.waitForLine(line, timeout: 60) } else { usleep(UInt32(point.delay * 1_000_000)) }
            kill(w.process.processIdentifier, point.signal)
            let r = w.finish(timeout: 60)
            if point.signal == SIGKILL {
                // The next start puts back what the killed run left.
                let restore = try Thplab.run(["knobs", "restore"], timeout: 60)
                #expect(restore.status == 0, "\(label) \(point): knobs restore: \(restore.stderr)")
                if (restore.stdout + restore.stderr).contains("interrupted thplab run") { restored += 1 }
            } else if r.status == 128 + point.signal {
                // The command put the host back itself, and said so.
                #expect(r.stderr.contains("put back"), "\(label) \(point): \(r.stderr)")
                putBack += 1
            } else {
                // Signalled before its handlers were in (nothing changed
                // yet), or finished before the signal: nothing else.
                #expect(r.signalled || r.status == 0, "\(label) \(point): exit \(r.status) \(r.stderr)")
            }
            let left = try doctorLeftovers()
            leftovers += left.count
            #expect(left.isEmpty, "\(label) \(point): doctor finds \(left)")
            #expect(otherThplabs(than: getpid()).isEmpty, "\(label) \(point): thplab processes still running")
            host.expectRestored()
        }
        print("kill harness: \(label): \(points.count) kill points (\(steps) progress lines, \(KillPoints.all ? "every point" : "CI's sample")), "
              + "\(restored) journals put back by the next start, \(putBack) put back by the command itself, leftovers \(leftovers)")
    }
}
}
