import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// The Debian package as a fleet installs it: `apt-get install ./thplab_*.deb`,
/// the thplab-export unit's command run as the unit runs it (its config
/// file, only CAP_SYS_ADMIN and CAP_SYS_PTRACE, a read-only filesystem),
/// scraped, then the package purged. The test builds the package with
/// scripts/package, or takes the one THPLAB_DEB names.
@Suite struct PackageKernelTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let unit = "/lib/systemd/system/thplab-export.service"
    static let config = "/etc/default/thplab-export"

    /// Runs a command to its end, at most `timeout` seconds: status and output.
    func sh(_ path: String, _ args: [String], timeout: Double = 300, env: [String: String] = [:]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let r = Thplab.finish(p, out, Pipe(), timeout: timeout)
        return (r.status, r.stdout)
    }

    /// The package, and the directory the test built it in (removed by the
    /// caller), if it did. The suite packages its own build of thplab
    /// (`scripts/package --binary`: the static release build takes over two
    /// minutes here, so `scripts/package` alone checks that one).
    func deb() throws -> (path: String, built: String?) {
        if let d = ProcessInfo.processInfo.environment["THPLAB_DEB"], FileManager.default.fileExists(atPath: d) { return (d, nil) }
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-deb-")
        let (status, out) = try sh("/bin/bash", [Self.repo + "/scripts/package", "--binary", Thplab.binary, "--scratch", dir + "/scratch", dir],
                                   timeout: 600)
        guard status == 0, let path = out.split(separator: "\n").last.map(String.init) else {
            try? FileManager.default.removeItem(atPath: dir)
            throw THPLabError(.system, "scripts/package failed: \(out.suffix(3000))")
        }
        return (path, dir)
    }

    /// The unit's ExecStart as systemd expands it: `${VAR}` is one word,
    /// `$VAR` splits on whitespace; variables from its EnvironmentFile.
    static func expand(_ exec: String, _ env: [String: String]) -> [String] {
        exec.split(separator: " ").flatMap { word -> [String] in
            if word.hasPrefix("${") && word.hasSuffix("}") { return [env[String(word.dropFirst(2).dropLast())] ?? ""] }
            if word.hasPrefix("$") { return (env[String(word.dropFirst())] ?? "").split(separator: " ").map(String.init) }
            return [String(word)]
        }
    }

    static func keyValues(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq]).trimmingCharacters(in: .whitespaces)] = String(line[line.index(after: eq)...])
        }
        return out
    }

    /// What the package holds: the binary, its manual pages, completions,
    /// the unit and its config; a static release package needs no Swift
    /// toolchain (the suite's own build, THPLAB_DEB unset, links the
    /// toolchain's runtime).
    func expectPackageContents() throws {
        let fm = FileManager.default
        for path in ["/usr/bin/thplab", "/usr/share/man/man1/thplab.1.gz", "/usr/share/man/man1/thplab-export.1.gz",
                     "/usr/share/man/man1/thplab-snapshot.1.gz", "/usr/share/bash-completion/completions/thplab",
                     "/usr/share/zsh/vendor-completions/_thplab", "/usr/share/fish/vendor_completions.d/thplab.fish", Self.unit, Self.config] {
            #expect(fm.fileExists(atPath: path), "the package has no \(path)")
        }
        let (_, version) = try sh("/usr/bin/thplab", ["--version"], timeout: 30)
        #expect(version.hasPrefix("thplab ") && version.contains("commit"), "\(version)")
        if ProcessInfo.processInfo.environment["THPLAB_DEB"] != nil {
            let (_, libs) = try sh("/usr/bin/ldd", ["/usr/bin/thplab"], timeout: 30)
            #expect(!libs.contains("swift"), "\(libs)")
        }
    }

    @Test func installRunTheUnitsCommandScrapeAndPurge() throws {
        let fm = FileManager.default
        try #require(!fm.fileExists(atPath: "/usr/bin/thplab"), "thplab is installed on this host already: remove it (apt-get purge thplab) to test the package")
        let (package, built) = try deb()
        defer { if let built { try? fm.removeItem(atPath: built) } }
        let apt = ["DEBIAN_FRONTEND": "noninteractive"]
        let (installed, log) = try sh("/usr/bin/apt-get", ["install", "-y", "-qq", package], env: apt)
        try #require(installed == 0, "apt-get install \(package): \(log.suffix(2000))")
        defer {
            let (purged, log) = (try? sh("/usr/bin/apt-get", ["purge", "-y", "-qq", "thplab"], env: apt)) ?? (-1, "")
            #expect(purged == 0, "apt-get purge thplab: \(log.suffix(2000))")
            for path in ["/usr/bin/thplab", Self.unit, Self.config, "/usr/share/man/man1/thplab-export.1.gz"] {
                #expect(!fm.fileExists(atPath: path), "\(path) is left after the purge")
            }
        }
        try expectPackageContents()

        // The unit: its command, capabilities and read-only filesystem.
        let unit = Self.keyValues(try String(contentsOfFile: Self.unit, encoding: .utf8))
        #expect(unit["CapabilityBoundingSet"] == "CAP_SYS_ADMIN CAP_SYS_PTRACE")
        #expect(unit["ProtectSystem"] == "strict")
        #expect(unit["NoNewPrivileges"] == "yes")
        let exec = try #require(unit["ExecStart"])
        // An administrator's edit of the config: a free port.
        let port = try Loopback.freePort()
        var configText = try String(contentsOfFile: Self.config, encoding: .utf8)
        configText = configText.replacingOccurrences(of: "THPLAB_LISTEN=127.0.0.1:9799", with: "THPLAB_LISTEN=127.0.0.1:\(port)")
        try configText.write(toFile: Self.config, atomically: false, encoding: .utf8)
        let command = Self.expand(exec, Self.keyValues(configText))
        #expect(command.prefix(4) == ["/usr/bin/thplab", "export", "--listen", "127.0.0.1:\(port)"], "\(command)")
        #expect(command.contains("--all"))

        let c = try ExportKernelTests.Collapsed()
        let expected = try ExportKernelTests().snapshotPmdBytes()
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-unit-")
        defer { try? fm.removeItem(atPath: dir) }
        let script = "mount -o remount,bind,ro / && exec /usr/bin/setpriv --bounding-set=-all,+sys_admin,+sys_ptrace --inh-caps=-all --no-new-privs -- \"$@\""
        let service = try Daemon("/usr/bin/unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh"] + command, dir: dir)
        defer { service.stop() }
        let body = Loopback.waitFor(60) { Loopback.get(port: port, "/metrics").flatMap { $0.status == 200 ? $0.body : nil } }
        let metrics = try #require(body, "the unit's command did not serve /metrics: \(service.output)")
        #expect(ExportKernelTests().pmdSample(metrics) == expected, "the collapsed memfd of pid \(getpid())")
        #expect(metrics.contains("thplab_scrape_missing{what=\"pfns\"} 0"), "CAP_SYS_ADMIN is enough for the PFNs")
        // The exporter runs with exactly the two capabilities, on a read-only root.
        let pids = ((try? fm.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        let exporter = pids.first { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").hasPrefix("/usr/bin/thplab\0export\0--listen\0127.0.0.1:\(port)")
        }
        let status = try String(contentsOfFile: "/proc/\(try #require(exporter, "no exporter process"))/status", encoding: .utf8)
        #expect(status.contains("CapEff:\t0000000000280000"), "\(status.split(separator: "\n").filter { $0.hasPrefix("Cap") })")
        let mounts = try String(contentsOfFile: "/proc/\(exporter!)/mounts", encoding: .utf8)
        #expect(mounts.split(separator: "\n").contains { $0.split(separator: " ")[1] == "/" && $0.split(separator: " ")[3].hasPrefix("ro") })
        service.stop()
        withExtendedLifetime(c) {}
    }
}
}
