import FoundationEssentials
import SystemPackage

/// Boots a kernel with virtme-ng (`vng`) on qemu, with this machine's
/// filesystem visible, and runs thplab there. thplab writes no VM launcher
/// of its own: vng does that; thplab only probes whether KVM works.
public enum VirtualMachine {
    public struct Options: Sendable {
        public var kernel: KernelImage
        public var memory = "2G"
        /// One vCPU unless asked: under software emulation it boots as
        /// fast, and cannot race itself patching kernel text (GuestDeath).
        public var cpus = 1
        public var numa: [String] = []
        public var timeoutSeconds = 600
        /// Where each boot's console is kept (nil: only its tail, in the
        /// error of a guest that died).
        public var consoleDirectory: String?
        public init(kernel: KernelImage) { self.kernel = kernel }
    }

    /// Refuses a CPU count out of range, or NUMA nodes that name a CPU
    /// the guest would not have (vng takes `MEM[,cpus=FIRST[-LAST]]`).
    public static func check(cpus: Int, numa: [String]) throws {
        guard (1...64).contains(cpus) else { throw THPLabError.usage("--cpus must be from 1 to 64") }
        for node in numa {
            for part in node.split(separator: ",").dropFirst() {
                guard part.hasPrefix("cpus=") else { continue }
                let bounds = part.dropFirst(5).split(separator: "-").map { Int($0) }
                guard !bounds.isEmpty, bounds.count <= 2, bounds.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                    throw THPLabError.usage("--numa \(node): cpus= takes FIRST or FIRST-LAST, e.g. --numa 1G,cpus=0")
                }
                if let last = bounds.last!, last >= cpus {
                    throw THPLabError.usage("--numa \(node) names CPU \(last) but the guest has \(cpus): give --cpus \(last + 1)")
                }
            }
        }
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
        guard Sys.exists(Sys.kvmDevice) else { return (false, "no /dev/kvm: software emulation (TCG)") }
        let cache = stateDir + "/kvm-probe"
        if let cached = FileIO.readIfPresent(cache)?.trimmingWhitespace(), !cached.isEmpty {
            return (cached.hasPrefix("works"), cached.hasPrefix("works") ? "KVM (probed earlier)" : "KVM failed its probe earlier: software emulation (TCG)")
        }
        guard let qemu = which("qemu-system-x86_64") else { return (false, "no qemu") }
        let arguments = ["-accel", "kvm", "-cpu", "host", "-machine", "q35", "-nographic", "-nodefaults", "-no-reboot",
                       "-m", "256", "-kernel", kernel.path, "-append", "console=ttyS0 panic=-1 init=/bin/false", "-serial", "stdio"]
        var works = false
        if let (read, write) = try? Sys.pipe() {
            defer { try? read.close() }
            let started = try? ChildProcess(path: qemu, arguments: arguments, output: write, errors: write)
            try? write.close()
            if let p = started {
                works = bannerWithin(seconds: 15, from: read, of: p)
                // A qemu spinning in KVM_RUN can ignore SIGTERM: SIGTERM, then
                // SIGKILL, never an unbounded wait.
                if p.isRunning { stop(p) } else { p.wait() }
            }
        }
        _ = try? Sys.mkdir(stateDir)
        try? FileIO.writeAtomically(cache, Array((works ? "works\n" : "fails\n").utf8))
        return (works, works ? "KVM" : "KVM did not boot the kernel within 15 s (it hangs on this host): software emulation (TCG)")
    }

    /// Whether the kernel's banner comes out of `pipe` while `p` runs,
    /// within `seconds`.
    static func bannerWithin(seconds: Double, from pipe: FileDescriptor, of p: ChildProcess) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline && p.isRunning {
            Sys.sleep(milliseconds: 200)
            while case .success(true) = Sys.result({ try Sys.waitReadable(pipe, timeoutMs: 0) }),
                  let n = try? chunk.withUnsafeMutableBytes({ try pipe.read(into: $0) }), n > 0 {
                text += chunk[0..<n]
            }
            if String(decoding: text, as: UTF8.self).contains("Linux version") { return true }
        }
        return false
    }

    /// A guest whose run.sh has not started thplab this long after vng
    /// started hung in its boot (a boot takes 20-60 s under software
    /// emulation, slower with both host cores busy): it is stopped, and
    /// booted once more like any guest that died before thplab ran.
    static let bootDeadlineSeconds = 180.0

    /// Runs `thplab ARGS` in a guest and brings back its exit code, output
    /// and `--json` result (when `wantJSON`). A guest that ends without
    /// thplab's exit code is judged from its console (`GuestDeath`); one
    /// that died before thplab started is booted once more, one that ran
    /// thplab never is (a retry must not hide a wrong answer).
    public static func run(_ o: Options, arguments: [String], wantJSON: Bool,
                           log: (String) -> Void) throws -> VMRunResult {
        _ = interrupt  // from here on, SIGINT/SIGTERM stop the guest cleanly
        if interrupt.isRaised { throw Interrupted() }
        let missing = missingTools()
        guard missing.isEmpty else {
            throw THPLabError.unsupported("VMs need " + missing.joined(separator: ", ") + "; scripts/install-vm-tools installs them")
        }
        return try bootUntilItRuns(label: o.kernel.release ?? o.kernel.path, log: log) { number in
            try boot(o, number: number, arguments: arguments, wantJSON: wantJSON, log: log)
        }
    }

    /// The retry rule, over any boot: a guest that died before thplab
    /// started is booted once more; a second death, or a death while
    /// thplab ran, fails with every boot's death (its console's lines).
    static func bootUntilItRuns(label: String, log: (String) -> Void, boot: (Int) throws -> BootOutcome) throws -> VMRunResult {
        var boots: [GuestBoot] = []
        while true {
            switch try boot(boots.count + 1) {
            case .ran(var result, let b):
                boots.append(b)
                result.boots = boots
                return result
            case .died(let death, let b):
                boots.append(b)
                let story = "the guest (\(label)) ended without thplab's exit code after \(b.seconds) s (boot \(b.number), vng exit \(b.vngExit)): \(death.description)"
                    + (b.console.map { "\n  (its whole console: \($0))" } ?? "")
                guard death.bootAgain, boots.count < 2 else {
                    let earlier = boots.dropLast().compactMap { e in e.death.map { "boot \(e.number) died too, after \(e.seconds) s: \($0.description)" } }
                    throw THPLabError(.system, (earlier + [story]).joined(separator: "\n"))
                }
                log(story + "\nit died before thplab started, so no result is lost: booting it once more")
            }
        }
    }

    enum BootOutcome {
        case ran(VMRunResult, GuestBoot)
        case died(GuestDeath, GuestBoot)
    }

    /// SIGINT or SIGTERM while a guest runs: the guest is stopped, its
    /// exchange directory removed, and this thrown (a matrix stops too).
    public struct Interrupted: Error, CustomStringConvertible {
        public var description: String { "interrupted: the VM was stopped and its exchange directory removed" }
    }

    /// Set by SIGINT/SIGTERM from the first VM on, for the process's life.
    static let interrupt = InterruptFlag()

    /// vng does not pass SIGTERM on to qemu: every process under it is
    /// signalled, then killed if still there after 2 s.
    static func stop(_ p: ChildProcess) {
        let tree = [p.pid] + StatFile.descendants(of: p.pid)
        for pid in tree.reversed() { Sys.kill(pid, Sys.SIGTERM) }
        Sys.sleep(milliseconds: 2000)
        for pid in tree.reversed() where ProcFS.host.exists(pid) { Sys.kill(pid, Sys.SIGKILL) }
        p.wait()
    }

    /// The guest's script: thplab with `arguments`, its output and exit
    /// status in `dir`. `started` tells a guest that died before thplab ran
    /// (safe to boot again) from one that died while it ran (never booted again).
    static func writeScript(dir: String, arguments: [String]) throws {
        let script = """
            cd /
            echo $$ > \(dir)/started
            \(shellQuote([Sys.ownExecutable()] + arguments)) > \(dir)/stdout 2> \(dir)/stderr
            echo $? > \(dir)/exit
            """
        try FileIO.writeAtomically(dir + "/run.sh", Array(script.utf8))
    }

    /// vng's command line. --force-9p: the root is 9p on every host
    /// (virtme-ng would first wait 3 s for a virtiofsd, which qemu 7.2's
    /// cannot serve, then fall back to 9p anyway).
    static func vngArguments(_ o: Options, kvm: Bool, dir: String) -> [String] {
        var args = ["--run", o.kernel.path, "--verbose", "--force-9p", "--user", "root", "--memory", o.memory, "--cpus", "\(o.cpus)",
                    "--rwdir", dir, "--exec", "sh \(dir)/run.sh"]
        if !kvm {
            args.insert("--disable-kvm", at: 2)
            // qemu's multi-threaded TCG can run a stale int3 on one vCPU
            // while another patches kernel text (GuestDeath): one thread.
            if o.cpus > 1 { args.append("--qemu-opts=-accel tcg,thread=single") }
        }
        for n in o.numa { args += ["--numa", n] }
        return args
    }

    /// One boot: thplab's result, or how the guest died. The console (vng
    /// --verbose: the kernel log and virtme-ng's lines) goes to a file,
    /// kept in `o.consoleDirectory` when one is given.
    static func boot(_ o: Options, number: Int, arguments: [String], wantJSON: Bool, log: (String) -> Void) throws -> BootOutcome {
        let (kvm, note) = kvmWorks(kernel: o.kernel)
        let emulation = kvm ? "KVM" : (o.cpus > 1 ? "single-threaded software emulation (TCG)" : "software emulation (TCG)")
        log("booting \(o.kernel.path) (\(o.cpus) vCPU\(o.cpus > 1 ? "s" : "")) with \(emulation)" + (number > 1 ? ", boot \(number)" : ""))
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-vm-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeScript(dir: dir, arguments: arguments + (wantJSON ? ["--json", dir + "/result.json"] : []))
        let vngArgs = vngArguments(o, kvm: kvm, dir: dir)
        let consolePath = dir + "/console"
        let console: FileDescriptor
        do {
            console = try FileDescriptor.open(FilePath(consolePath), .writeOnly, options: [.create, .truncate, .closeOnExec],
                                              permissions: [.ownerReadWrite])
        } catch {
            throw THPLabError(.system, "cannot create the console file \(consolePath)")
        }
        let t0 = Date()
        let p: ChildProcess
        do { p = try ChildProcess(path: which("vng")!, arguments: vngArgs, output: console, errors: console) } catch {
            try? console.close()
            throw error
        }
        var started = false
        var bootDeadlinePassed = false
        while p.isRunning && Date().timeIntervalSince(t0) < Double(o.timeoutSeconds) && !interrupt.isRaised {
            if !started { started = Sys.exists(dir + "/started") }
            if !started && Date().timeIntervalSince(t0) > bootDeadlineSeconds { bootDeadlinePassed = true; break }
            Sys.sleep(milliseconds: 200)
        }
        let timedOut = p.isRunning && !bootDeadlinePassed && !interrupt.isRaised
        if p.isRunning { stop(p) } else { p.wait() }
        try? console.close()
        if interrupt.isRaised { throw Interrupted() }
        started = started || Sys.exists(dir + "/started")
        let seconds = (Date().timeIntervalSince(t0) * 10).rounded() / 10
        let kept = keepConsole(consolePath, o: o, number: number)
        let exitText = timedOut ? nil : FileIO.readIfPresent(dir + "/exit")
        guard let code = exitText.flatMap({ Int32($0.trimmingWhitespace()) }) else {
            let text = String(decoding: (try? FileIO.readBytes(consolePath, limit: 1 << 24)) ?? [], as: UTF8.self)
            var death = GuestDeath.classify(console: text, startedThplab: started, timedOut: timedOut, bootDeadlinePassed: bootDeadlinePassed)
            // What thplab printed last (its progress lines): where it was.
            if started, let said = FileIO.readIfPresent(dir + "/stderr") {
                death.thplabSaid = Array(said.split(separator: "\n").suffix(10).map(String.init))
            }
            return .died(death, GuestBoot(number: number, seconds: seconds, vngExit: p.terminationStatus, death: death, console: kept))
        }
        let result = wantJSON ? (try? JSONDecoder().decode(JSONValue.self, from: Data(FileIO.readBytes(dir + "/result.json", limit: 1 << 28)))) : nil
        let boot = GuestBoot(number: number, seconds: seconds, vngExit: p.terminationStatus, death: nil, console: kept)
        return .ran(VMRunResult(kernel: o.kernel, acceleration: kvm ? "kvm" : "tcg", accelerationNote: note, memory: o.memory,
                                cpus: o.cpus, numa: o.numa, arguments: arguments, exitCode: code,
                                stdout: FileIO.readIfPresent(dir + "/stdout") ?? "", stderr: FileIO.readIfPresent(dir + "/stderr") ?? "",
                                result: result, seconds: seconds, boots: []), boot)
    }

    /// Copies the console into `o.consoleDirectory` as
    /// `RELEASE.bootN.console`; its path, or nil when none is kept.
    static func keepConsole(_ path: String, o: Options, number: Int) -> String? {
        guard let keep = o.consoleDirectory else { return nil }
        let name = (o.kernel.release ?? (o.kernel.path.split(separator: "/").last.map(String.init) ?? "kernel")) + ".boot\(number).console"
        let target = keep + "/" + name
        _ = try? Sys.mkdir(keep)
        try? FileManager.default.removeItem(atPath: target)
        return (try? FileManager.default.copyItem(atPath: path, toPath: target)) != nil ? target : nil
    }

    /// Single-quotes each word for sh.
    static func shellQuote(_ words: [String]) -> String {
        words.map { "'" + $0.replacing("'", with: "'\\''") + "'" }.joined(separator: " ")
    }
}
