import ArgumentParser
import THPLab

struct VMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm",
        abstract: "Run thplab on another kernel, in a virtual machine that sees this machine's filesystem.",
        discussion: """
            Boots the kernel with virtme-ng (vng) on qemu, runs `thplab ARGS` inside as root, and brings back \
            its exit code, output and (with --json) its JSON result. KVM is used when it boots the kernel \
            (probed once); otherwise software emulation: a boot takes 20-40 s. \
            A guest that dies before thplab starts (its console says why: an oops, a panic, the OOM killer, a boot \
            that never reached thplab) is booted once more; one that dies while thplab runs is not, and the error \
            quotes its console. --console-dir keeps every console. \
            scripts/install-vm-tools installs qemu, busybox-static, virtme-ng and Debian's 6.1 kernel.
            Example: thplab vm --kernel 6.1.0-56-amd64 -- run retract --trigger khugepaged
            """
    )

    @Option(help: "A kernel image path, or a release installed as /boot/vmlinuz-RELEASE.")
    var kernel: String

    @Option(help: "Guest memory (qemu syntax, e.g. 2G).")
    var memory: String = "2G"

    @Option(help: "Guest CPUs. One is fastest under software emulation; with more, thplab asks qemu for single-threaded emulation (its multi-threaded mode can crash a guest at boot).")
    var cpus: Int = 1

    @Option(help: "A NUMA node, as vng takes it: MEM[,cpus=FIRST[-LAST]] (repeat for each node).")
    var numa: [String] = []

    @Option(help: "Bound on the whole VM run, in seconds.")
    var timeout: Int = 600

    @Option(name: .customLong("console-dir"), help: ArgumentHelp("Keep each boot's console (kernel log and virtme-ng's lines) in this directory, as RELEASE.bootN.console.", valueName: "DIR"))
    var consoleDirectory: String?

    @OptionGroup var output: OutputOptions

    @Argument(parsing: .captureForPassthrough, help: "-- THPLAB-ARGS")
    var words: [String] = []

    var guestArguments: [String] { words.first == "--" ? Array(words.dropFirst()) : words }

    func validate() throws {
        if guestArguments.isEmpty { throw ValidationError("give the thplab arguments to run after --, e.g. -- run retract") }
        try VirtualMachine.check(cpus: cpus, numa: numa)
        guard (30...7200).contains(timeout) else { throw ValidationError("--timeout must be from 30 to 7200 seconds") }
    }

    func run() throws {
        var o = VirtualMachine.Options(kernel: try KernelImage.resolve(kernel))
        o.memory = memory
        o.cpus = cpus
        o.numa = numa
        o.timeoutSeconds = timeout
        o.consoleDirectory = consoleDirectory
        let r = try VirtualMachine.run(o, arguments: guestArguments, wantJSON: output.json != nil,
                                       log: { Console.error("thplab: " + $0) })
        FileIO.writeStandard(Array(r.stderr.utf8), errors: true)
        try output.emit(r) { r.stdout.hasSuffix("\n") ? String(r.stdout.dropLast()) : r.stdout }
        Console.error("thplab: the VM (\(r.acceleration), \(r.seconds) s) ran thplab with exit code \(r.exitCode)")
        throw ExitCode(r.exitCode)
    }
}
