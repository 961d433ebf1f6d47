import Foundation
import SystemPackage
import Testing
@testable import THPLab

extension KernelSuite {
/// `thplab export` read by the real tools: Debian's Prometheus scrapes
/// `--listen`, node_exporter's textfile collector serves `--textfile`,
/// promtool lints the output. The test process itself is the target: it
/// collapses a 4 MiB memfd with MADV_COLLAPSE and keeps still.
@Suite struct ExportKernelTests {
    static let huge = 2 << 20

    /// A 4 MiB memfd of this process, collapsed: PMD-mapped here.
    final class Collapsed {
        let fd: FileDescriptor
        let region: MappedRegion

        init() throws {
            fd = try Sys.memfdCreate(name: "thplab-export-test")
            try Sys.ftruncate(fd, size: Int64(2 * ExportKernelTests.huge))
            region = try MappedRegion(fd: fd, length: 2 * ExportKernelTests.huge, fileOffset: 0, shared: true)
            try Sys.result({ try region.madvise(.populateWrite) }).mapError { THPLabError.system("MADV_POPULATE_WRITE", $0) }.get()
            try Sys.result({ try region.madvise(.collapse) }).mapError { THPLabError.system("MADV_COLLAPSE in the test", $0) }.get()
        }

        deinit { try? fd.close() }
    }

    static let me = "\(getpid())"

    /// PMD-mapped bytes of this process as `thplab snapshot` reads them:
    /// the figure every exporter path must carry.
    func snapshotPmdBytes() throws -> Double {
        let r = try Thplab.run(["snapshot", "--pid", Self.me, "--json", "-"], timeout: 60)
        try #require(r.status == 0, "\(r.stderr)")
        let p = try #require((try r.json()["processes"] as? [[String: Any]])?.first)
        let pmd = try #require((p["totals"] as? [String: Any])?["pmd"] as? Int)
        return Double(pmd * 4096)
    }

    /// `thplab_process_memory_bytes{pid=me,class="pmd"}` in exposition text.
    func pmdSample(_ text: String) -> Double? {
        // Any order of labels (node_exporter sorts them).
        for line in text.split(separator: "\n") where line.hasPrefix("thplab_process_memory_bytes{") && line.contains("pid=\"\(Self.me)\"")
            && line.contains("class=\"pmd\"") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    func tempDir(_ name: String) throws -> String {
        let d = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-\(name)-")
        chmod(d, 0o755)
        return d
    }

    func tool(_ path: String) throws -> String {
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: scripts/test installs Debian's prometheus and prometheus-node-exporter")
        return path
    }

    @Test func prometheusScrapesListenAndSeesTheCollapsedExtent() throws {
        let prometheus = try tool("/usr/bin/prometheus")
        let c = try Collapsed()
        let host = HostSnapshot()
        let expected = try snapshotPmdBytes()
        #expect(expected >= Double(2 * Self.huge), "the collapsed memfd is PMD-mapped (\(expected) bytes)")
        let dir = try tempDir("prometheus")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exportPort = try Loopback.freePort()
        let exporter = try Daemon(Thplab.binary, ["export", "--pid", Self.me, "--listen", "127.0.0.1:\(exportPort)"], dir: dir + "/exporter")
        defer { exporter.stop() }
        let first = Loopback.waitFor(60) { Loopback.get(port: exportPort, "/metrics").flatMap { $0.status == 200 ? $0.body : nil } }
        let body = try #require(first, "export --listen did not answer: \(exporter.output)")
        #expect(pmdSample(body) == expected)
        let promPort = try Loopback.freePort()
        try """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: thplab
                static_configs:
                  - targets: ['127.0.0.1:\(exportPort)']
            """.write(toFile: dir + "/prometheus.yml", atomically: false, encoding: .utf8)
        let server = try Daemon(prometheus, ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                             "--web.listen-address=127.0.0.1:\(promPort)"], dir: dir)
        defer { server.stop() }
        let query = "thplab_process_memory_bytes%7Bpid%3D%22\(Self.me)%22%2Cclass%3D%22pmd%22%7D"
        let value = Loopback.waitFor(90, every: 0.5) { () -> Double? in
            guard let r = Loopback.get(port: promPort, "/api/v1/query?query=\(query)"), r.status == 200,
                  let json = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any],
                  let result = (json["data"] as? [String: Any])?["result"] as? [[String: Any]],
                  let v = result.first?["value"] as? [Any], let s = v.last as? String else { return nil }
            return Double(s)
        }
        #expect(value == expected, "Prometheus's value \(value.map { "\($0)" } ?? "none"); its log: \(server.output.suffix(2000))")
        // Prometheus's own view of the target: up, and no scrape error.
        let up = Loopback.get(port: promPort, "/api/v1/query?query=up%7Bjob%3D%22thplab%22%7D")
        #expect(up?.body.contains("\"1\"") == true, "\(up?.body ?? "no answer")")
        server.stop()
        exporter.stop()
        withExtendedLifetime(c) {}
        host.expectRestored()
    }

    @Test func nodeExporterServesTheTextfileAndPromtoolAcceptsIt() throws {
        let nodeExporter = try tool("/usr/bin/prometheus-node-exporter")
        let promtool = try tool("/usr/bin/promtool")
        let c = try Collapsed()
        let expected = try snapshotPmdBytes()
        let dir = try tempDir("textfile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Thplab.run(["export", "--pid", Self.me, "--textfile", dir], timeout: 60)
        try #require(r.status == 0, "\(r.stderr)")
        let file = try String(contentsOfFile: dir + "/thplab.prom", encoding: .utf8)
        #expect(pmdSample(file) == expected)
        // Nothing but the file is left in the directory (the write is atomic).
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["thplab.prom"])
        // promtool lints the exposition (names, units, HELP, TYPE): silence and 0 mean clean.
        let lint = Process()
        lint.executableURL = URL(fileURLWithPath: promtool)
        lint.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        lint.standardInput = input
        lint.standardOutput = output
        lint.standardError = output
        try lint.run()
        input.fileHandleForWriting.write(Data(file.utf8))
        try input.fileHandleForWriting.close()
        let lintOut = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        lint.waitUntilExit()
        #expect(lint.terminationStatus == 0 && lintOut.isEmpty, "promtool check metrics: \(lintOut)")
        let port = try Loopback.freePort()
        let server = try Daemon(nodeExporter, ["--collector.disable-defaults", "--collector.textfile",
                                               "--collector.textfile.directory=\(dir)", "--web.listen-address=127.0.0.1:\(port)"],
                                dir: try tempDir("node-exporter"))
        defer { server.stop(); try? FileManager.default.removeItem(atPath: server.dir) }
        let served = Loopback.waitFor(60) { Loopback.get(port: port, "/metrics").flatMap { $0.status == 200 ? $0.body : nil } }
        let body = try #require(served, "node_exporter did not answer: \(server.output)")
        #expect(pmdSample(body) == expected, "node_exporter's /metrics: \(body.prefix(500))")
        // node_exporter read the file without an error.
        #expect(body.contains("node_textfile_scrape_error 0"), "\(body.split(separator: "\n").filter { $0.contains("textfile") })")
        withExtendedLifetime(c) {}
    }

    @Test func badClientsCannotStallTheExporter() throws {
        let dir = try tempDir("export-clients")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try Loopback.freePort()
        let exporter = try Daemon(Thplab.binary, ["export", "--pid", Self.me, "--listen", "\(port)"], dir: dir)
        defer { exporter.stop() }
        try #require(Loopback.waitFor(60) { Loopback.get(port: port, "/metrics")?.status } == 200, "\(exporter.output)")
        #expect(Loopback.get(port: port, "/")?.status == 404)
        #expect(Loopback.exchange(port: port, Array("POST /metrics HTTP/1.1\r\n\r\n".utf8))?.hasPrefix("HTTP/1.1 405") == true)
        let huge = Loopback.exchange(port: port, Array(("GET /metrics HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 1 << 20)).utf8))
        #expect(huge?.hasPrefix("HTTP/1.1 431") == true, "\(huge ?? "no answer")")
        // A client that sends half a request line and waits: answered 408
        // at the deadline, and the next client is served.
        let t0 = Date()
        let slow = Loopback.exchange(port: port, Array("GET /met".utf8), timeout: 30)
        #expect(slow?.hasPrefix("HTTP/1.1 408") == true)
        #expect(Date().timeIntervalSince(t0) < 20)
        #expect(Loopback.get(port: port, "/metrics")?.status == 200)
        #expect(exporter.process.isRunning)
    }

    @Test func badInputExitsTwoAndLeftOutProcessesAreCounted() throws {
        // A port in use.
        let dir = try tempDir("export-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try Loopback.freePort()
        let holder = try Daemon(Thplab.binary, ["export", "--pid", Self.me, "--listen", "127.0.0.1:\(port)"], dir: dir)
        defer { holder.stop() }
        try #require(Loopback.waitFor(60) { Loopback.get(port: port, "/metrics")?.status } == 200, "\(holder.output)")
        let inUse = try Thplab.run(["export", "--pid", Self.me, "--listen", "127.0.0.1:\(port)"], timeout: 60)
        #expect(inUse.status == 2 && inUse.stderr.contains("in use"), "\(inUse.status) \(inUse.stderr)")
        holder.stop()
        // A textfile directory this user may not write: nobody and a root-owned 0755 directory.
        let denied = try Thplab.run(["export", "--textfile", dir], timeout: 60, asUser: 65534)
        #expect(denied.status == 2 && denied.stderr.contains("--textfile"), "\(denied.status) \(denied.stderr)")
        let missing = try Thplab.run(["export", "--textfile", dir + "/nope"], timeout: 60)
        #expect(missing.status == 2 && missing.stderr.contains("no such directory"))
        // A process gone before it is read is left out and counted.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let r = try Thplab.run(["export", "--pid", "\(gone.processIdentifier)", "--pid", Self.me], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("thplab_scrape_processes_left_out{reason=\"exited\"} 1"))
        #expect(r.stdout.contains("thplab_target_processes 1"))
        #expect(pmdSample(r.stdout) != nil)
    }

    @Test func withoutPrivilegeTheScrapeSaysWhatIsMissing() throws {
        // Another user: other processes and PFNs are out of reach; the system figures are there.
        let r = try Thplab.run(["export", "--all"], timeout: 60, asUser: 65534)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("thplab_scrape_missing{what=\"pfns\"} 1"))
        #expect(r.stdout.contains("thplab_scrape_missing{what=\"processes\"} 1"))
        #expect(r.stdout.contains("thplab_khugepaged_full_scans_total "))
        #expect(r.stdout.contains("thplab_knob_info{knob=\"enabled\""))
        // Root without CAP_SYS_ADMIN: this process is read, its PFNs are not.
        let c = try Collapsed()
        let noAdmin = try Thplab.run(["export", "--pid", Self.me], timeout: 60, withoutSysAdmin: true)
        #expect(noAdmin.stdout.contains("thplab_scrape_missing{what=\"pfns\"} 1"), "\(noAdmin.stderr)")
        #expect(noAdmin.stdout.contains("thplab_scrape_missing{what=\"processes\"} 0"))
        // PMD mappings come from PAGEMAP_SCAN, which needs no PFN.
        #expect(pmdSample(noAdmin.stdout) == (try snapshotPmdBytes()))
        withExtendedLifetime(c) {}
    }
}
}
