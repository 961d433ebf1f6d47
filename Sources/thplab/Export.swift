import ArgumentParser
import THPLab

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "THP coverage as Prometheus metrics: a textfile for node_exporter, or GET /metrics.",
        discussion: """
            One scrape reads the target's processes as `thplab snapshot` does (page tables, pagemap, \
            kpageflags, smaps) and judges each VMA as `thplab explain` does, then the system: \
            khugepaged's counters, vmstat thp_*, the huge-page lines of meminfo, the per-size stats, \
            and every knob as an info metric. A scrape changes nothing on the host.

            Three ways to run it:
              thplab export --all                          print one scrape on stdout
              thplab export --all --textfile DIR [--interval 60]
                  write DIR/thplab.prom atomically (write, fsync, rename) for node_exporter's
                  textfile collector (--collector.textfile.directory=DIR), once or every interval
              thplab export --all --listen 127.0.0.1:9799
                  serve GET /metrics, one request at a time (each scrape is read afresh)

            Series (labels pid, comm, cgroup; a process beyond --top is summed under comm="other"):
              thplab_process_memory_bytes{class=pmd|pte_thp|mthp|small|swapped, size=}
              thplab_process_pmd_mapped_bytes       smaps' PMD-mapped memory
              thplab_process_blocked_bytes{blocker=} what keeps memory off PMDs (as explain ranks it)
              thplab_khugepaged_*_total, thplab_vmstat_thp_*_total, thplab_meminfo_*_bytes,
              thplab_mthp_*{size=}, thplab_knob_info{knob=,value=}
              thplab_scrape_duration_seconds, thplab_scrape_processes_left_out{reason=},
              thplab_scrape_missing{what=pfns|processes|sysfs}, thplab_build_info
            Without root, the scrape has what the user may read and thplab_scrape_missing says \
            what is not there (PFNs need CAP_SYS_ADMIN; other users' processes CAP_SYS_PTRACE).
            Series at most: (top+1) x (6 + the mTHP sizes below the PMD + 15 blockers), so 609 with \
            --top 20 on x86-64 (8 sizes), plus the system's (about 230 on a 6.18 kernel); a scrape \
            usually has far fewer, since an mTHP size or a blocker with nothing in it is left out.
            """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: ArgumentHelp("Write DIR/thplab.prom for node_exporter's textfile collector (atomically).", valueName: "dir"))
    var textfile: String?

    @Option(help: ArgumentHelp("With --textfile: write again every this many seconds until stopped (default: once).", valueName: "seconds"))
    var interval: Double?

    @Option(help: ArgumentHelp("Serve GET /metrics on this address: ADDR:PORT, or PORT alone for 127.0.0.1.", valueName: "addr:port"))
    var listen: String?

    @Option(help: "How many processes to export one by one, largest resident first; the rest are summed under comm=\"other\" (0: all).")
    var top: Int = 20

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must be 0 (all) or more") }
        if textfile != nil && listen != nil { throw ValidationError("--textfile and --listen are two ways to run; choose one") }
        if let interval {
            guard textfile != nil else { throw ValidationError("--interval goes with --textfile (with --listen, each GET /metrics is a scrape)") }
            guard interval >= 1 && interval <= 86_400 else { throw ValidationError("--interval must be from 1 to 86400 seconds") }
        }
        if let listen { _ = try ListenAddress(parsing: listen) }
    }

    var build: PrometheusText.Build { .init(version: Version.release, commit: Version.commit) }

    func scrape() throws -> String {
        PrometheusText.render(try MetricsCollector.collect(targets: target.targets, top: top), build: build)
    }

    func run() throws {
        if let textfile { return try writeTextfile(dir: textfile) }
        if let listen { return try serve(try ListenAddress(parsing: listen)) }
        print(try scrape(), terminator: "")
    }

    func writeTextfile(dir: String) throws {
        let file = try PrometheusTextfile(directory: dir)
        let flag = InterruptFlag()
        try file.run(interval: interval, stop: { flag.isRaised }, scrape: scrape)
    }

    func serve(_ address: ListenAddress) throws {
        // The first scrape is made before serving: a target that cannot be
        // read at all is an error now, not a 500 later.
        _ = try scrape()
        let server = try MetricsServer(address)
        if !address.isLoopback {
            Console.error("thplab export: warning: \(address) is reachable from other hosts; the metrics name every process of the target")
        }
        Console.error("thplab export: serving http://\(address.host.contains(":") ? "[\(address.host)]" : address.host):\(server.boundPort)/metrics (stop with Ctrl-C)")
        let flag = InterruptFlag()
        server.serve(stop: { flag.isRaised }) {
            do {
                return .init(status: 200, contentType: PrometheusText.contentType, body: try scrape())
            } catch {
                return .init(status: 503, body: "thplab export: the scrape failed: \(error)\n")
            }
        }
    }
}

