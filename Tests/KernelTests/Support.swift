import Foundation
import Testing
@testable import THPLab

/// Whether the tests that drive the real kernel can run here, and why not.
/// With THPLAB_REQUIRE_KERNEL_TESTS=1 (as in CI) they run regardless and fail
/// on a host that cannot run them, so a skip can never pass for a success.
enum KernelGate {
    static let isRoot = geteuid() == 0
    static let hasTHP = FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/khugepaged")
    static let required = ProcessInfo.processInfo.environment["THPLAB_REQUIRE_KERNEL_TESTS"] == "1"
    static var available: Bool { isRoot && hasTHP }

    /// Debian's 6.1 kernel and the VM tools, for the tests that boot it.
    static var kernel61: String? { installedKernel("6.1.") }
    /// Debian's 6.12 LTS kernel (scripts/install-vm-tools installs both).
    static var kernel612: String? { installedKernel("6.12.") }

    /// The newest installed kernel of a series, by its release name.
    static func installedKernel(_ series: String) -> String? {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? [])
            .filter { $0.hasPrefix("vmlinuz-" + series) }.sorted().last.map { String($0.dropFirst("vmlinuz-".count)) }
    }
    static var shouldRun: Bool { available || required }
    static var reason: Comment {
        Comment(rawValue: "kernel tests need root and a THP-capable kernel (root: \(isRoot), THP: \(hasTHP))")
    }
}

/// Every test that drives the kernel lives in this one serialized suite
/// (THP knobs, khugepaged and tracefs are global), enabled only where the
/// kernel can be driven, or where THPLAB_REQUIRE_KERNEL_TESTS makes a host
/// that cannot into a failure.
@Suite(.serialized, .enabled(if: KernelGate.shouldRun, KernelGate.reason))
enum KernelSuite {}

/// The result of one thplab invocation.
struct Invocation {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool

    func json() throws -> [String: Any] {
        let data = Data(stdout.utf8)
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt)
        }
        return obj
    }
}

/// Runs the thplab binary built next to this test bundle, bounded in time.
enum Thplab {
    static var binary: String {
        if let env = ProcessInfo.processInfo.environment["THPLAB_BIN"] { return env }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("thplab").path
    }

    /// A copy of the binary another user can run, wherever the build lives
    /// (a checkout under /root is not reachable by `nobody`).
    static func worldReadableCopy() throws -> String {
        let dir = "/tmp/thplab-nonroot-test"
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let copy = dir + "/thplab"
        try fm.copyItem(atPath: binary, toPath: copy)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy)
        return copy
    }

    /// Starts thplab; the caller waits for it with `finish`.
    /// - Parameters:
    ///   - via: a program and its arguments that run thplab (`prlimit ...`).
    ///   - environment: variables added to the test's own.
    static func start(_ args: [String], asUser uid: Int? = nil, withoutSysAdmin: Bool = false,
                      via: [String] = [], environment: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b } }
        if !via.isEmpty {
            p.executableURL = URL(fileURLWithPath: via[0])
            p.arguments = Array(via.dropFirst()) + [binary] + args
        } else if withoutSysAdmin {
            // Root, but without CAP_SYS_ADMIN: pagemap then hides PFNs.
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--bounding-set=-sys_admin", "--inh-caps=-sys_admin", binary] + args
        } else if let uid {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--inh-caps=-all",
                           try worldReadableCopy()] + args
        } else {
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = args
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }

    /// Waits at most `timeout` seconds, then stops it: SIGTERM first, so that
    /// it puts the host back as it would for a user, SIGKILL 10 s later.
    /// What it printed by then is kept: a test that timed out says what
    /// thplab saw last (its progress lines).
    static func finish(_ p: Process, _ out: Pipe, _ err: Pipe, timeout: Double) -> Invocation {
        // Drain the pipes while waiting, so a large output cannot block it.
        let outData = Locked(Data()), errData = Locked(Data())
        let group = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                let d = pipe.fileHandleForReading.readDataToEndOfFile()
                sink.set(d)
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        let timedOut = p.isRunning
        if timedOut {
            kill(p.processIdentifier, SIGTERM)
            let grace = Date().addingTimeInterval(10)
            while p.isRunning && Date() < grace { usleep(20_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        _ = group.wait(timeout: .now() + 10)
        return Invocation(status: p.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
                          stderr: String(decoding: errData.get(), as: UTF8.self), timedOut: timedOut)
    }

    static func run(_ args: [String], timeout: Double = 120, asUser uid: Int? = nil,
                    withoutSysAdmin: Bool = false, via: [String] = [], environment: [String: String] = [:]) throws -> Invocation {
        let (p, o, e) = try start(args, asUser: uid, withoutSysAdmin: withoutSysAdmin, via: via, environment: environment)
        return finish(p, o, e, timeout: timeout)
    }

    /// Runs `thplab ARGS --json -` on the real kernel and returns its JSON,
    /// expecting exit `status` (nil: 0 or 1, done with or without a
    /// difference) and the host left as it was.
    static func runJSON(_ args: [String], status: Int32? = 0, timeout: Double = 120,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel", sourceLocation: sourceLocation)
        let host = HostSnapshot()
        let r = try run(args + ["--json", "-"], timeout: timeout)
        #expect(!r.timedOut, "thplab \(args) did not finish in \(timeout) s; it said last: \(r.stderr.suffix(1500))", sourceLocation: sourceLocation)
        if let status {
            #expect(r.status == status, "\(args): exit \(r.status) \(r.stderr)", sourceLocation: sourceLocation)
        } else {
            #expect(r.status == 0 || r.status == 1, "\(args): exit \(r.status) \(r.stderr)", sourceLocation: sourceLocation)
        }
        host.expectRestored(sourceLocation: sourceLocation)
        return try r.json()
    }
}


/// A command run to its end with its output dropped: whether it exited 0.
enum Shell {
    static func succeeds(_ argv: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// A `sh -c` line.
    static func succeeds(_ line: String) -> Bool { succeeds(["sh", "-c", line]) }
}

/// Every THP knob file's content, to compare before and after.
enum HostState {
    static let root = "/sys/kernel/mm/transparent_hugepage"

    static func knobs() -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root) else { return out }
        for case let rel as String in e where !rel.contains("stats") {
            let path = root + "/" + rel
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  !rel.hasSuffix("full_scans"), !rel.hasSuffix("pages_collapsed"),
                  let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            out[rel] = text
        }
        return out
    }

    static func thplabMounts() -> [String] {
        ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init).filter { $0.contains("thplab") }
    }

    /// Cgroups thplab made (named thplab-*) under any cgroup mount.
    static func thplabCgroups() -> [String] {
        MountTable.cgroupMounts((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").flatMap { root in
            ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix("thplab-") }.map { root + "/" + $0 }
        }
    }

    static func tracefsMounted() -> Bool {
        ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").contains(" tracefs ")
    }

    static func thplabInstances() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/kernel/tracing/instances")) ?? []).filter { $0.hasPrefix("thplab") }
    }

    /// Whether any run journal is on disk (a killed run's, or a running one's).
    static var journalExists: Bool { !journals().isEmpty }

    /// The run journals on disk, each with what it holds: a journal left
    /// behind names the run that left it and the step it could not undo.
    static func journals() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/run/thplab")) ?? []).filter { $0.hasPrefix("journal") }.sorted().map { name in
            let text = (try? String(contentsOfFile: "/run/thplab/" + name, encoding: .utf8)) ?? "(unreadable)"
            return "/run/thplab/\(name): \(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))"
        }
    }

    /// Pids of processes whose command line mentions `thplab worker`.
    static func workers() -> [Int32] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.compactMap { Int32($0) }.filter { pid in
            guard let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
            let args = cmd.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return args.count >= 2 && args[0].hasSuffix("thplab") && args[1] == "worker"
        }
    }

    /// Active swap areas (/proc/swaps, without the header).
    static func swaps() -> [String] {
        ((try? String(contentsOfFile: "/proc/swaps", encoding: .utf8)) ?? "").split(separator: "\n").dropFirst()
            .map { String($0.split(separator: " ").first ?? "") }
    }

    static func value(_ knob: String) -> String {
        ((try? String(contentsOfFile: root + "/" + knob, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The host as a test found it; `expectRestored` checks it is so again:
/// every knob, no thplab mount, tracefs instance, worker or journal, and
/// tracefs mounted exactly when it was.
struct HostSnapshot {
    let knobs = HostState.knobs()
    let tracefsMounted = HostState.tracefsMounted()
    let swaps = HostState.swaps()

    func expectRestored(sourceLocation: SourceLocation = #_sourceLocation) {
        let after = HostState.knobs()
        for (k, v) in knobs where after[k] != v {
            Issue.record("knob \(k) changed: \(v.trimmingCharacters(in: .whitespacesAndNewlines)) -> \(after[k] ?? "gone")",
                         sourceLocation: sourceLocation)
        }
        #expect(HostState.thplabMounts().isEmpty, "mounts left: \(HostState.thplabMounts())", sourceLocation: sourceLocation)
        #expect(HostState.thplabInstances().isEmpty, "tracefs instances left", sourceLocation: sourceLocation)
        #expect(HostState.tracefsMounted() == tracefsMounted, "tracefs mount changed", sourceLocation: sourceLocation)
        #expect(HostState.journals().isEmpty, "journal left: \(HostState.journals())", sourceLocation: sourceLocation)
        #expect(HostState.workers().isEmpty, "workers left: \(HostState.workers())", sourceLocation: sourceLocation)
        #expect(HostState.swaps() == swaps, "swap areas changed: \(HostState.swaps())", sourceLocation: sourceLocation)
        #expect(HostState.thplabCgroups().isEmpty, "cgroups left: \(HostState.thplabCgroups())", sourceLocation: sourceLocation)
        let swapFiles = ((try? FileManager.default.contentsOfDirectory(atPath: "/var/tmp")) ?? []).filter { $0.hasPrefix("thplab-swap") }
        #expect(swapFiles.isEmpty, "swap files left: \(swapFiles)", sourceLocation: sourceLocation)
    }
}
