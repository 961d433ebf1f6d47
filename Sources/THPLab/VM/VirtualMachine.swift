import Foundation

/// Boots a kernel with virtme-ng (`vng`) on qemu, with this machine's
/// filesystem visible, and runs thplab there. thplab writes no VM launcher
/// of its own: vng does that; thplab only probes whether KVM works.
public enum VirtualMachine {
    public struct Options: Sendable {
        public var kernel: KernelImage
        public var memory = "2G"
        public var cpus = 2
        public var numa: [String] = []
        public var timeoutSeconds = 600
        public init(kernel: KernelImage) { self.kernel = kernel }
    }

    /// The tools a VM needs, or what is missing.
    public static func missingTools() -> [String] {
        var missing: [String] = []
        if which("vng") == nil { missing.append("virtme-ng (vng: pip install virtme-ng)") }
        if which("qemu-system-x86_64") == nil { missing.append("qemu-system-x86 (apt-get install qemu-system-x86)") }
        if !Sys.exists("/usr/bin/busybox") && !Sys.exists("/bin/busybox") { missing.append("busybox-static (apt-get install busybox-static)") }
        return missing
    }

    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map(String.init) + ["/root/.local/bin", "/usr/local/bin"])
            .map { $0 + "/" + tool }.first { Sys.exists($0) }
    }

    /// Whether KVM boots a kernel here: /dev/kvm, then a 15 s boot probe
    /// that must print the kernel's banner (on this host KVM hangs early).
    /// The answer is kept in the state directory for the machine's uptime.
    public static func kvmWorks(kernel: KernelImage, stateDir: String = HostGuard.defaultStateDir) -> (Bool, String) {
        guard Sys.exists("/dev/kvm") else { return (false, "no /dev/kvm: software emulation (TCG)") }
        let cache = stateDir + "/kvm-probe"
        if let cached = FileIO.readIfPresent(cache)?.trimmingWhitespace(), !cached.isEmpty {
            return (cached.hasPrefix("works"), cached.hasPrefix("works") ? "KVM (probed earlier)" : "KVM failed its probe earlier: software emulation (TCG)")
        }
        guard let qemu = which("qemu-system-x86_64") else { return (false, "no qemu") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: qemu)
        p.arguments = ["-accel", "kvm", "-cpu", "host", "-machine", "q35", "-nographic", "-nodefaults", "-no-reboot",
                       "-m", "256", "-kernel", kernel.path, "-append", "console=ttyS0 panic=-1 init=/bin/false", "-serial", "stdio"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        var works = false
        if (try? p.run()) != nil {
            let deadline = Date().addingTimeInterval(15)
            var text = Data()
            let handle = out.fileHandleForReading
            while Date() < deadline && p.isRunning {
                Sys.sleep(milliseconds: 200)
                if case .success(true) = Sys.result({ try Sys.waitReadable(.init(rawValue: handle.fileDescriptor), timeoutMs: 0) }) {
                    text.append(handle.availableData)
                }
                if String(decoding: text, as: UTF8.self).contains("Linux version") { works = true; break }
            }
            if p.isRunning { p.terminate() }
            p.waitUntilExit()
        }
        _ = try? Sys.mkdir(stateDir)
        try? FileIO.writeAtomically(cache, Array((works ? "works\n" : "fails\n").utf8))
        return (works, works ? "KVM" : "KVM did not boot the kernel within 15 s (it hangs on this host): software emulation (TCG)")
    }

    /// Runs `thplab ARGS` in a guest and brings back its exit code, output
    /// and `--json` result (when `wantJSON`).
    /// A guest that did not start at all (vng gave up within this many
    /// seconds, printing nothing) is booted once more before the run fails.
    static let quickFailureSeconds = 20.0

    public static func run(_ o: Options, arguments: [String], wantJSON: Bool,
                           log: (String) -> Void) throws -> VMRunResult {
        _ = interrupt  // from here on, SIGINT/SIGTERM stop the guest cleanly
        if interrupt.isRaised { throw Interrupted() }
        let missing = missingTools()
        guard missing.isEmpty else {
            throw THPLabError.unsupported("VMs need " + missing.joined(separator: ", ") + "; scripts/install-vm-tools installs them")
        }
        do {
            return try boot(o, arguments: arguments, wantJSON: wantJSON, log: log)
        } catch let e as GuestDidNotStart {
            log("the guest did not start (\(e.reason)); booting it once more")
            do { return try boot(o, arguments: arguments, wantJSON: wantJSON, log: log) } catch let again as GuestDidNotStart {
                throw THPLabError(.system, "thplab did not run in the VM: \(again.reason), twice")
            }
        }
    }

    /// vng ended quickly without running thplab and without a word.
    struct GuestDidNotStart: Error { var reason: String }

    /// SIGINT or SIGTERM while a guest runs: the guest is stopped, its
    /// exchange directory removed, and this thrown (a matrix stops too).
    public struct Interrupted: Error, CustomStringConvertible {
        public var description: String { "interrupted: the VM was stopped and its exchange directory removed" }
    }

    /// Set by SIGINT/SIGTERM from the first VM on, for the process's life.
    static let interrupt = InterruptFlag()

    /// vng does not pass SIGTERM on to qemu: every process under it is
    /// signalled, then killed if still there after 2 s.
    static func stop(_ p: Process) {
        let tree = [p.processIdentifier] + StatFile.descendants(of: p.processIdentifier)
        for pid in tree.reversed() { Sys.kill(pid, Sys.SIGTERM) }
        Sys.sleep(milliseconds: 2000)
        for pid in tree.reversed() where Sys.exists("/proc/\(pid)") { Sys.kill(pid, Sys.SIGKILL) }
        p.waitUntilExit()
    }

    static func boot(_ o: Options, arguments: [String], wantJSON: Bool, log: (String) -> Void) throws -> VMRunResult {
        let (kvm, note) = kvmWorks(kernel: o.kernel)
        log("booting \(o.kernel.path) with \(kvm ? "KVM" : "software emulation (TCG)")")
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-vm-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var guestArgs = arguments
        if wantJSON { guestArgs += ["--json", dir + "/result.json"] }
        let script = """
            cd /
            \(shellQuote([Sys.ownExecutable()] + guestArgs)) > \(dir)/stdout 2> \(dir)/stderr
            echo $? > \(dir)/exit
            """
        try FileIO.writeAtomically(dir + "/run.sh", Array(script.utf8))
        var vngArgs = ["--run", o.kernel.path, "--user", "root", "--memory", o.memory, "--cpus", "\(o.cpus)",
                       "--rwdir", dir, "--exec", "sh \(dir)/run.sh"]
        if !kvm { vngArgs.insert("--disable-kvm", at: 2) }
        for n in o.numa { vngArgs += ["--numa", n] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which("vng")!)
        p.arguments = vngArgs
        let console = Pipe()
        p.standardOutput = console
        p.standardError = console
        p.standardInput = FileHandle.nullDevice
        let t0 = Date()
        try p.run()
        let drained = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        DispatchQueue.global().async { box.data = console.fileHandleForReading.readDataToEndOfFile(); drained.signal() }
        while p.isRunning && Date().timeIntervalSince(t0) < Double(o.timeoutSeconds) && !interrupt.isRaised { Sys.sleep(milliseconds: 200) }
        if p.isRunning {
            stop(p)
            if interrupt.isRaised { throw Interrupted() }
            throw THPLabError(.system, "the VM did not finish within \(o.timeoutSeconds) s; it was stopped")
        }
        p.waitUntilExit()
        _ = drained.wait(timeout: .now() + 5)
        guard let exitText = FileIO.readIfPresent(dir + "/exit"), let code = Int32(exitText.trimmingWhitespace()) else {
            let tail = String(decoding: box.data, as: UTF8.self).split(separator: "\n").suffix(15).joined(separator: "\n")
            if tail.trimmingWhitespace().isEmpty && Date().timeIntervalSince(t0) < quickFailureSeconds {
                throw GuestDidNotStart(reason: "vng exit \(p.terminationStatus) after \(String(format: "%.1f", Date().timeIntervalSince(t0))) s, no console output")
            }
            throw THPLabError(.system, "thplab did not run in the VM (vng exit \(p.terminationStatus)); the console said:\n\(tail)")
        }
        let result = wantJSON ? (try? JSONDecoder().decode(JSONValue.self, from: Data(FileIO.readBytes(dir + "/result.json", limit: 1 << 28)))) : nil
        return VMRunResult(kernel: o.kernel, acceleration: kvm ? "kvm" : "tcg", accelerationNote: note, memory: o.memory,
                           cpus: o.cpus, numa: o.numa, arguments: arguments, exitCode: code,
                           stdout: FileIO.readIfPresent(dir + "/stdout") ?? "", stderr: FileIO.readIfPresent(dir + "/stderr") ?? "",
                           result: result, seconds: (Date().timeIntervalSince(t0) * 10).rounded() / 10)
    }

    /// Single-quotes each word for sh.
    static func shellQuote(_ words: [String]) -> String {
        words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }
}
