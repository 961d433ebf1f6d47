import Testing
@testable import THPLab

/// The exposition read back: families with HELP and TYPE, samples by name
/// and labels, as a scraper would parse them.
struct Parsed {
    var types: [String: String] = [:]
    var helps: Set<String> = []
    var samples: [(name: String, labels: [String: String], value: Double)] = []

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let f = line.split(separator: " ")
                types[String(f[2])] = String(f[3])
            } else if line.hasPrefix("# HELP ") {
                helps.insert(String(line.split(separator: " ")[2]))
            } else {
                let valueStart = line.lastIndex(of: " ")!
                let series = line[..<valueStart]
                let value = Double(line[line.index(after: valueStart)...])!
                guard let brace = series.firstIndex(of: "{") else { samples.append((String(series), [:], value)); continue }
                var labels: [String: String] = [:]
                var rest = series[series.index(after: brace)...].dropLast()
                while !rest.isEmpty {
                    let eq = rest.firstIndex(of: "=")!
                    let key = String(rest[..<eq])
                    var i = rest.index(eq, offsetBy: 2)
                    var v = ""
                    while rest[i] != "\"" {
                        if rest[i] == "\\" { i = rest.index(after: i); v.append(rest[i] == "n" ? "\n" : rest[i]) } else { v.append(rest[i]) }
                        i = rest.index(after: i)
                    }
                    labels[key] = v
                    rest = rest[rest.index(after: i)...]
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                samples.append((String(series[..<brace]), labels, value))
            }
        }
    }

    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { s in s.name == name && labels.allSatisfy { k, v in s.labels[k] == v } }?.value
    }
}

@Suite struct ExportTests {
    /// PostgreSQL on 6.18 with its buffer pool collapsed, the system counters
    /// and knobs of the same machine.
    func sample(top: Int = 20) throws -> (MetricsSample, SnapshotResult) {
        let snap = try Fixture.result("snapshot-postgres-aligned-collapsed-6.18.json", as: SnapshotResult.self)
        let knobs = ["enabled": "madvise", "shmem_enabled": "advise", "khugepaged/max_ptes_none": "511"]
        let ctx = Explainer.Context(knobs: knobs, readOnlyThpForFS: true, mountHuge: { _ in "never" })
        let system = SystemCounters(vmstatText: try Fixture.text("vmstat-6.18.txt"), meminfoText: try Fixture.text("meminfo-6.18.txt"),
                                    khugepaged: ["full_scans": 12, "pages_collapsed": 3072],
                                    perSize: PerSizeStats.parse(grepOutput: try Fixture.text("per-size-stats-6.18.txt")))
        let rows = snap.processes.map { MetricsCollector.row($0, context: ctx) }
        let s = MetricsSample(kernelRelease: snap.kernelRelease, targets: ["--comm postgres"], rows: MetricsSample.keepTop(rows, top: top),
                              system: system, knobs: knobs, processesRead: rows.count, processesLeftOut: ["exited": 1],
                              gaps: [.processes: "1 unreadable"], durationSeconds: 0.125)
        return (s, snap)
    }

    let build = PrometheusText.Build(version: "0.17.0", commit: "abc123")

    @Test func everyFamilyHasHelpAndTypeAndCountersEndInTotal() throws {
        let text = PrometheusText.render(try sample().0, build: build)
        let p = Parsed(text)
        #expect(!p.samples.isEmpty)
        for s in p.samples {
            #expect(s.name.hasPrefix("thplab_"), "\(s.name)")
            #expect(p.types[s.name] != nil, "\(s.name) has no TYPE")
            #expect(p.helps.contains(s.name), "\(s.name) has no HELP")
        }
        for (name, type) in p.types {
            #expect((type == "counter") == name.hasSuffix("_total"), "\(name) is a \(type)")
        }
        // No series twice.
        let keys = p.samples.map { "\($0.name)\($0.labels.sorted { $0.key < $1.key })" }
        #expect(Set(keys).count == keys.count)
    }

    @Test func processBytesAreTheSnapshotsPages() throws {
        let (s, snap) = try sample()
        let p = Parsed(PrometheusText.render(s, build: build))
        let first = snap.processes[0]
        let l = ["pid": "\(first.pid)", "comm": "postgres"]
        #expect(p.value("thplab_process_memory_bytes", l.merging(["class": "pmd"]) { a, _ in a }) == Double(first.totals.pmd * 4096))
        #expect(p.value("thplab_process_memory_bytes", l.merging(["class": "mthp", "size": "32kB"]) { a, _ in a }) == Double(96 * 4096))
        #expect(p.value("thplab_process_memory_bytes", l.merging(["class": "small"]) { a, _ in a }) == Double(first.totals.small * 4096))
        let all = p.samples.filter { $0.name == "thplab_process_memory_bytes" && $0.labels["pid"] == "\(first.pid)" }.reduce(0) { $0 + $1.value }
        #expect(all == Double((first.totals.resident + first.totals.swapped) * 4096))
        // What is blocked is resident and not on a PMD.
        let blocked = p.samples.filter { $0.name == "thplab_process_blocked_bytes" && $0.labels["pid"] == "\(first.pid)" }.reduce(0) { $0 + $1.value }
        #expect(blocked > 0)
        #expect(blocked <= Double((first.totals.resident - first.totals.pmd) * 4096))
        #expect(p.value("thplab_process_pmd_mapped_bytes", l) == Double(first.vmas.reduce(0) { $0 + $1.crosscheck.smapsPmdKB } * 1024))
        #expect(p.value("thplab_target_processes", [:]) == Double(snap.processes.count))
    }

    @Test func systemCountersKnobsAndTheScrapeItself() throws {
        let (s, _) = try sample()
        let p = Parsed(PrometheusText.render(s, build: build))
        let vmstat = ProcCounters.parseVmstat(try Fixture.text("vmstat-6.18.txt"))
        #expect(p.value("thplab_vmstat_thp_fault_alloc_total", [:]) == Double(vmstat["thp_fault_alloc"]!))
        #expect(p.types["thplab_vmstat_nr_shmem_hugepages"] == "gauge")
        let meminfo = ProcCounters.parseMeminfo(try Fixture.text("meminfo-6.18.txt"))
        #expect(p.value("thplab_meminfo_anon_huge_pages_bytes", [:]) == Double(meminfo["AnonHugePages"]! * 1024))
        #expect(p.value("thplab_meminfo_shmem_pmd_mapped_bytes", [:]) == Double(meminfo["ShmemPmdMapped"]! * 1024))
        #expect(p.value("thplab_khugepaged_pages_collapsed_total", [:]) == 3072)
        #expect(p.types["thplab_mthp_nr_anon"] == "gauge")
        #expect(p.value("thplab_mthp_anon_fault_alloc_total", ["size": "1024kB"]) != nil)
        #expect(p.value("thplab_knob_info", ["knob": "enabled", "value": "madvise"]) == 1)
        #expect(p.value("thplab_scrape_duration_seconds", [:]) == 0.125)
        #expect(p.value("thplab_scrape_processes_left_out", ["reason": "exited"]) == 1)
        #expect(p.value("thplab_scrape_processes_left_out", ["reason": "unreadable"]) == 0)
        #expect(p.value("thplab_scrape_missing", ["what": "processes"]) == 1)
        #expect(p.value("thplab_scrape_missing", ["what": "pfns"]) == 0)
        #expect(p.value("thplab_build_info", ["version": "0.17.0", "commit": "abc123", "kernel": s.kernelRelease]) == 1)
    }

    @Test func processesBeyondTopAreSummedUnderOther() throws {
        let (all, snap) = try sample(top: 0)
        let (two, _) = try sample(top: 2)
        #expect(all.rows.count == snap.processes.count)
        #expect(two.rows.count == 3)
        let other = two.rows[2]
        #expect(other.pid == nil && other.comm == "other")
        #expect(other.processes == snap.processes.count - 2)
        // Largest first, and nothing lost in the sum.
        #expect(two.rows[0].pages.resident >= two.rows[1].pages.resident)
        #expect(two.rows.reduce(ClassCounts()) { $0 + $1.pages }.resident == all.rows.reduce(ClassCounts()) { $0 + $1.pages }.resident)
        let p = Parsed(PrometheusText.render(two, build: build))
        #expect(p.value("thplab_process_memory_bytes", ["comm": "other", "class": "pmd"]) == Double(other.pages.pmd * 4096))
        #expect(p.value("thplab_other_processes", [:]) == Double(snap.processes.count - 2))
        // Within the bound the README states.
        let series = p.samples.filter { $0.name.hasPrefix("thplab_process_") }.count
        #expect(series <= PrometheusText.worstCaseSeries(top: 2, mthpSizes: 8, systemSeries: 0))
        // The figure `export --help` and the README give for --top 20 on x86-64.
        #expect(PrometheusText.worstCaseSeries(top: 20, mthpSizes: 8, systemSeries: 0) == 609)
    }

    @Test func labelValuesAreEscaped() throws {
        var (s, _) = try sample(top: 1)
        s.rows[0].comm = "we\"ird\\na\nme"
        let text = PrometheusText.render(s, build: build)
        #expect(text.contains(#"comm="we\"ird\\na\nme""#))
        #expect(Parsed(text).value("thplab_process_memory_bytes", ["comm": "we\"ird\\na\nme", "class": "pmd"]) != nil)
    }

    @Test func listenAddresses() throws {
        #expect(try ListenAddress(parsing: "9799") == ListenAddress(host: "127.0.0.1", port: 9799))
        #expect(try ListenAddress(parsing: ":9799") == ListenAddress(host: "127.0.0.1", port: 9799))
        #expect(try ListenAddress(parsing: "0.0.0.0:80").host == "0.0.0.0")
        #expect(try ListenAddress(parsing: "[::1]:9799") == ListenAddress(host: "::1", port: 9799))
        for bad in ["", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", "::1:9799", "[::1]9799", "host:port"] {
            #expect(throws: THPLabError.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
    }

    @Test func onlyGetMetricsAnswersWithData() {
        func status(_ request: String) -> (Int, String) {
            var called = false
            let r = MetricsServer.route(Array(request.utf8)) { called = true; return .init(status: 200, body: "thplab_x 1\n") }
            let text = String(decoding: r.bytes, as: UTF8.self)
            #expect(called == (r.status == 200), "\(request)")
            return (r.status, text)
        }
        #expect(status("GET /metrics HTTP/1.1\r\nHost: x").0 == 200)
        #expect(status("GET /metrics?x=1 HTTP/1.0").1.hasSuffix("thplab_x 1\n"))
        #expect(!status("HEAD /metrics HTTP/1.1").1.contains("thplab_x"))
        let post = status("POST /metrics HTTP/1.1")
        #expect(post.0 == 405 && post.1.contains("Allow: GET, HEAD"))
        #expect(status("DELETE /metrics HTTP/1.1").0 == 405)
        #expect(status("GET / HTTP/1.1").0 == 404)
        #expect(status("GET /metrics/../etc HTTP/1.1").0 == 404)
        #expect(status("GET /metrics").0 == 400)
        #expect(status("\u{0}\u{1}garbage").0 == 400)
        #expect(MetricsServer.headEnd(Array("GET / HTTP/1.1\r\nA: b\r\n\r\n".utf8)) == 20)
        #expect(MetricsServer.headEnd(Array("GET / HTTP/1.1\r\nA: b\r\n".utf8)) == nil)
    }
}
