import Foundation
import Testing
@testable import THPLab

/// The guests the whole suite boots, each once per test process, shared by
/// every test that reads a guest's behaviour: a boot costs 20-60 s under
/// software emulation, and each is a chance for the emulator to fail.
/// - `matrix`: one `thplab matrix` of the battery on the host, Debian's 6.1
///   and Debian's newest 6.12 (the two guests boot side by side, one vCPU
///   each): the plan's version-rule entries, plus the extra commands the
///   per-rule tests read (`entries`).
/// - `numa`: one two-node 6.1 guest running both NUMA placements.
enum GuestRuns {
    /// The battery plan's entries the version rules speak of.
    static let planWords = ["doctor", "nohugepage --uffd-wp", "run bloat", "run shared"]
    /// Commands of the per-rule guest tests, run in the same boots.
    static let sparse = "sweep sparse --present 256 --extents 2 --knob max_ptes_none=255,256"
    static let swap = "sweep swap --swapped 64 --extents 2 --knob max_ptes_swap=63,64"
    static let mthp = "run mthp --memory anon --memory shmem --memory tmpfs"
    static let bloat = "sweep bloat --trigger madvise --knob max_ptes_none=256 --touched 64,400 --extents 2"
    static let anonCollapse = "run collapse --backing anon --trigger khugepaged --extents 2 --timeout 60"
    static let benefitAnon = "run benefit --size 16M --rounds 1 --round-seconds 0.05"
    static let benefitShmem = "run benefit --memory shmem --size 16M --rounds 1 --round-seconds 0.05"
    static let entries = [sparse, swap, mthp, bloat, anonCollapse, benefitAnon, benefitShmem]
    static let numaEntries = ["run numa --extents 2", "run numa --node 1 --extents 2"]

    /// What one shared guest run brought back.
    final class Outcome: @unchecked Sendable {
        let invocation: Invocation?
        let json: [String: Any]?
        let failure: String?
        init(invocation: Invocation?, json: [String: Any]?, failure: String?) {
            self.invocation = invocation
            self.json = json
            self.failure = failure
        }

        /// The JSON, or the test fails with why there is none.
        func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
            try #require(json, Comment(rawValue: failure ?? "no result"), sourceLocation: sourceLocation)
        }
    }

    /// Where the consoles of the suite's guests are kept: the last run's,
    /// replaced by the next.
    static let consoleDirectory: String = {
        let dir = "/tmp/thplab-test-consoles"
        try? FileManager.default.removeItem(atPath: dir)
        return dir
    }()

    static let matrix: Outcome = {
        guard KernelGate.available, let k61 = KernelGate.kernel61, let k612 = KernelGate.kernel612 else {
            return Outcome(invocation: nil, json: nil, failure: "the guest kernels are not installed (scripts/install-vm-tools), or this is not root on a THP kernel")
        }
        // 6.12 by the path of its image, as a kernel from a build tree is given.
        let args = ["matrix", "--kernel", k61, "--kernel", "/boot/vmlinuz-" + k612, "--host", "--console-dir", consoleDirectory,
                    "--json", "-", "--", "battery", "--only"] + planWords + entries.flatMap { ["--entry", $0] }
        return shared("guests: host \(Sys.uname().release), \(k61), \(k612) (side by side)", args, timeout: 1200)
    }()

    static let numa: Outcome = {
        guard KernelGate.available, let k61 = KernelGate.kernel61 else {
            return Outcome(invocation: nil, json: nil, failure: "Debian's 6.1 kernel is not installed: scripts/install-vm-tools")
        }
        let args = ["vm", "--kernel", k61, "--memory", "2G", "--cpus", "2", "--numa", "1G,cpus=0", "--numa", "1G,cpus=1",
                    "--console-dir", consoleDirectory, "--json", "-", "--", "battery"] + numaEntries.flatMap { ["--entry", $0] }
        return shared("two-node guest: \(k61)", args, timeout: 900)
    }()

    /// Runs one shared guest command, prints what it booted and how long it
    /// took, and checks it left the host as it found it.
    static func shared(_ what: String, _ args: [String], timeout: Double) -> Outcome {
        let host = HostSnapshot()
        let t0 = Date()
        print("\(what): booting, once for the whole suite")
        let r: Invocation
        do { r = try Thplab.run(args, timeout: timeout) } catch {
            return Outcome(invocation: nil, json: nil, failure: "thplab did not start: \(error)")
        }
        // What thplab said: each boot, its runs, and any guest that died (with
        // its console's lines) and was booted again.
        for line in r.stderr.split(separator: "\n") { print("  " + line) }
        print("\(what): \(String(format: "%.1f", Date().timeIntervalSince(t0))) s, exit \(r.status); consoles in \(consoleDirectory)")
        host.expectRestored()
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("thplab-vm-") }
        #expect(leftovers.isEmpty, "exchange directories left: \(leftovers)")
        if r.timedOut { return Outcome(invocation: r, json: nil, failure: "thplab \(args.prefix(2).joined(separator: " ")) did not finish in \(Int(timeout)) s: \(r.stderr.suffix(3000))") }
        guard let json = try? r.json() else {
            return Outcome(invocation: r, json: nil, failure: "no JSON from thplab \(args.prefix(2).joined(separator: " ")) (exit \(r.status)): \(r.stderr.suffix(3000))")
        }
        // Each guest battery's entries, with their exit codes and times: a
        // slow guest shows where its time went.
        let batteries = (json["columns"] as? [[String: Any]])?.map { ($0["label"] as? String ?? "?", $0["result"] as? [String: Any]) }
            ?? [("guest", json["result"] as? [String: Any])]
        for (label, battery) in batteries {
            let entries = (battery?["entries"] as? [[String: Any]] ?? []).map { "\($0["label"] ?? "?") \($0["exit_code"] ?? "?") \($0["seconds"] ?? "?")s" }
            print("  \(label): " + (entries.isEmpty ? "no battery" : entries.joined(separator: "; ")))
        }
        return Outcome(invocation: r, json: json, failure: nil)
    }

    /// The battery result of the matrix column whose kernel release starts
    /// with `series` (`6.1.`, `6.12.`).
    static func battery(_ series: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let json = try matrix.require(sourceLocation: sourceLocation)
        let columns = json["columns"] as? [[String: Any]] ?? []
        let column = try #require(columns.first { ($0["kernel_release"] as? String)?.hasPrefix(series) == true },
                                  "no \(series)x column: \(columns.map { $0["label"] ?? "" })", sourceLocation: sourceLocation)
        return try #require(column["result"] as? [String: Any], "the \(series)x guest brought back no battery: \(column["note"] ?? "")",
                            sourceLocation: sourceLocation)
    }

    /// One battery entry's own result, after checking it ran to its end.
    static func entry(_ label: String, in battery: [String: Any], exitCode: Int = 0,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let entries = battery["entries"] as? [[String: Any]] ?? []
        let e = try #require(entries.first { $0["label"] as? String == label },
                             "no battery entry \(label): \(entries.map { $0["label"] ?? "" })", sourceLocation: sourceLocation)
        #expect(e["exit_code"] as? Int == exitCode, "\(label): exit \(e["exit_code"] ?? "?") (\(e["note"] ?? ""))", sourceLocation: sourceLocation)
        return try #require(e["result"] as? [String: Any], "\(label) wrote no result: \(e["note"] ?? "")", sourceLocation: sourceLocation)
    }
}
