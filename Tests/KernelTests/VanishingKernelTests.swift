import Foundation
import Testing

extension KernelSuite {
/// Targets whose processes exit, exec, or unmap and remap while thplab
/// reads them: thousands of short-lived processes come and go during
/// `snapshot --all`, `explain --all`, `export --all`, `watch --all` and a
/// `collapse --all --dry-run`, and a `collapse --pid` aims at a process
/// that exits at once. No crash, no hang: each finishes, its JSON is
/// whole, and what it read adds up.
@Suite struct VanishingKernelTests {
    /// Processes that come and go until stopped: batches of short-lived
    /// programs (some exec, some map 4 MiB buffers and unmap them), counted.
    /// Stopped through a file, not a signal: a test runner may start it with
    /// SIGTERM ignored, which a shell then cannot trap.
    final class Churn {
        let process: Process
        let counter = NSTemporaryDirectory() + "churn-count-\(getpid())"
        let stopFile = NSTemporaryDirectory() + "churn-stop-\(getpid())"
        init() throws {
            unlink(stopFile)
            let script = """
            n=0
            while [ ! -e \(stopFile) ]; do
              for i in 1 2 3 4; do /bin/true & sh -c 'exec sleep 0.01' & dd if=/dev/zero of=/dev/null bs=4M count=2 status=none & done
              wait; n=$((n + 12))
            done
            echo $n > \(counter)
            """
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", script]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// Stops the churn (bounded); the number of processes it started.
        func stop() -> Int {
            _ = FileManager.default.createFile(atPath: stopFile, contents: nil)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            defer { unlink(counter); unlink(stopFile) }
            return Int(((try? String(contentsOfFile: counter, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
    }

    /// A run that must end by itself, in time, without a crash.
    func finishes(_ args: [String], timeout: Double = 120, ok: Set<Int32> = [0]) throws -> Invocation {
        let r = try Thplab.run(args, timeout: timeout)
        #expect(!r.timedOut, "\(args) hung")
        #expect(ok.contains(r.status), "\(args): exit \(r.status) \(r.stderr.suffix(2000))")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Segmentation"), "\(args) crashed: \(r.stderr.suffix(2000))")
        return r
    }

    /// Whole `snapshot --all` reads while the churn runs (about 2,500
    /// processes come and go during each here).
    static let snapshots = 4

    @Test func readersSurviveProcessesThatComeAndGo() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let churn = try Churn()
        var snapshots = 0, unread = 0  // unread: processes that exited mid-read
        do {
            usleep(300_000)
            for _ in 0..<Self.snapshots {
                let r = try finishes(["snapshot", "--all", "--json", "-"])
                let json = try r.json()
                let processes = json["processes"] as? [[String: Any]] ?? []
                #expect(!processes.isEmpty)
                // What was read adds up: the rollup's total is the sum of
                // the rows, whatever exited meanwhile.
                let rollup = json["rollup"] as? [String: Any] ?? [:]
                let total = rollup["total"] as? [String: Any] ?? [:]
                #expect(total["processes"] as? Int == processes.count, "\(total)")
                var sum: [String: Int] = [:]
                for p in processes {
                    for (k, v) in p["totals_kb"] as? [String: Int] ?? [:] { sum[k, default: 0] += v }
                }
                #expect(total["kb"] as? [String: Int] == sum, "rollup \(total["kb"] ?? "") vs rows \(sum)")
                unread += (rollup["unread"] as? [[String: Any]])?.filter { $0["reason"] as? String == "exited" }.count ?? 0
                snapshots += 1
            }
            let explain = try finishes(["explain", "--all", "--json", "-"])
            _ = try explain.json()
            let export = try finishes(["export", "--all"])
            #expect(export.stdout.contains("thplab_scrape_processes_left_out") || export.stdout.contains("thplab_process_memory_bytes"))
            _ = try finishes(["watch", "--all", "--interval", "100", "--duration", "2", "--json", "-"])
            _ = try finishes(["collapse", "--all", "--dry-run", "--json", "-"], ok: [0, 1])
            // A process gone before the collapse reaches it: a clear refusal.
            let gone = Process()
            gone.executableURL = URL(fileURLWithPath: "/bin/true")
            try gone.run()
            gone.waitUntilExit()
            let r = try finishes(["collapse", "--pid", "\(gone.processIdentifier)"], ok: [2, 3])
            #expect(r.stderr.contains("\(gone.processIdentifier)"), "\(r.stderr)")
        } catch {
            _ = churn.stop()
            throw error
        }
        let started = churn.stop()
        print("vanishing processes: \(started) started and gone during the readers, \(snapshots) whole snapshots, \(unread) processes left out (exited mid-read), 0 crashes")
        #expect(started >= 1000, "the churn started only \(started) processes")
        #expect(snapshots == Self.snapshots)
        host.expectRestored()
    }
}
}
