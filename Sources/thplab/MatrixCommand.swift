import ArgumentParser
import THPLab

struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "The same thplab command on several kernels and the host, side by side.",
        discussion: """
            Any `run SCENARIO`, `sweep`, `doctor` or `battery`, with its own options, in a VM per --kernel (and on the host with --host):
              run retract   mapping role by mapping role, each kernel's outcome and rule
              run SCENARIO  extents collapsed against the model, and the scan results of the others
              sweep         each point's collapsed extents against the model, and the sweep's checks
              doctor        each kernel's capability table from its own files
              battery       all of these at once: each kernel's behaviour fingerprint
            Rows where the kernels differ are listed with each kernel's rule; a kernel that did what its model did not \
            expect is a finding (a rule the model lacks). A kernel that cannot run the command (exit 3) or a guest that \
            does not boot shows it in its column; the others still run.
            Examples:
              thplab matrix --kernel 6.1.0-57-amd64 --kernel 6.12.117+deb12-amd64 --host -- run retract --trigger khugepaged --nohugepage
              thplab matrix --kernel 6.1.0-57-amd64 --host -- sweep sparse --knob khugepaged/max_ptes_none=255,256
              thplab matrix --kernel 6.1.0-57-amd64 --kernel /boot/vmlinuz-6.12.117+deb12-amd64 --host -- battery
            """
    )

    @Option(name: .customLong("kernel"), help: "A kernel to boot (path or installed release; repeatable).")
    var kernels: [String] = []

    @Flag(help: "Also run on the host's own kernel.")
    var host = false

    @Option(help: "Guest memory.")
    var memory: String = "2G"

    @Option(help: "A guest NUMA node, as vng takes it: MEM[,cpus=FIRST[-LAST]] (repeat for each node; the host keeps its own).")
    var numa: [String] = []

    @Option(help: "vCPUs per guest. One is fastest under software emulation; with more, thplab asks qemu for single-threaded emulation.")
    var cpus: Int = 1

    @Option(help: "Guests booted at once (default: one per host CPU; each keeps a host CPU busy under software emulation).")
    var parallel: Int?

    @Option(name: .customLong("console-dir"), help: ArgumentHelp("Keep every guest boot's console (kernel log and virtme-ng's lines) in this directory, as RELEASE.bootN.console.", valueName: "DIR"))
    var consoleDirectory: String?

    @OptionGroup var output: OutputOptions

    @Flag(help: "Show every row, not only those where the kernels differ or missed their model (past 30 rows).")
    var all = false

    @Argument(parsing: .captureForPassthrough, help: "-- run SCENARIO [OPTIONS], -- sweep SCENARIO [OPTIONS], -- doctor, or -- battery [OPTIONS]")
    var words: [String] = []

    var guestArguments: [String] { words.first == "--" ? Array(words.dropFirst()) : words }

    func validate() throws {
        // sweep takes the region scenarios; run takes retract too.
        let regions = RegionOptions.Scenario.allCases.map(\.rawValue)
        switch guestArguments.first {
        case "run"?, "sweep"?:
            let scenarios = guestArguments[0] == "run" ? ["retract"] + regions : regions
            guard let s = guestArguments.dropFirst().first, scenarios.contains(s) else {
                throw ValidationError("give a scenario after \(guestArguments[0]): one of \(scenarios.joined(separator: ", "))")
            }
        case "doctor"?, "battery"?: break
        default:
            throw ValidationError("matrix compares run, sweep, doctor or battery: give -- run SCENARIO [OPTIONS], -- sweep SCENARIO [OPTIONS], -- doctor, or -- battery")
        }
        try VirtualMachine.check(cpus: cpus, numa: numa)
        if let parallel, !(1...16).contains(parallel) { throw ValidationError("--parallel must be from 1 to 16") }
        guard !kernels.isEmpty || host else { throw ValidationError("give at least one --kernel, or --host") }
        guard !guestArguments.contains("--json") else { throw ValidationError("give --json to matrix, not to the command it runs") }
    }

    var guestOptions: Matrix.GuestOptions {
        var g = Matrix.GuestOptions(parallel: parallel)
        g.memory = memory
        g.cpus = cpus
        g.numa = numa
        g.consoleDirectory = consoleDirectory
        return g
    }

    func run() throws {
        let m = try Matrix.run(arguments: guestArguments, images: try kernels.map { try KernelImage.resolve($0) }, host: host,
                               guests: guestOptions, log: { Console.error("thplab: " + $0) })
        try output.emit(m) { MatrixTextReport.render(m, all: all) }
        if !m.ok { throw ExitCode(1) }
    }
}
