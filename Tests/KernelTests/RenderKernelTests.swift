import Foundation
import Testing

/// HTML reports of real runs, rendered by a real browser (Debian's
/// headless Chromium, through scripts/render-check): a rendering error or
/// an empty chart fails.
extension KernelSuite {
@Suite struct RenderKernelTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    final class TempDir {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-render-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// scripts/render-check on one file.
    func renderCheck(_ html: String) throws -> Invocation {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Self.repo + "/scripts/render-check", html]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return Thplab.finish(p, out, err, timeout: 120)
    }

    func browserInstalled() -> Bool {
        ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The saved bloat run and sweep (its trade-off chart) render with every
    /// series visible.
    @Test func bloatReportsRenderInChromium() throws {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        try #require(browserInstalled(), "no headless Chromium: scripts/test installs chromium-headless-shell")
        let dir = try TempDir()
        let fixtures = Self.repo + "/Tests/THPLabTests/Fixtures/"
        for name in ["result-sweep-bloat-6.18.json", "result-bloat-split-6.18.json"] {
            let html = dir.path + "/" + name + ".html"
            let r = try Thplab.run(["report", fixtures + name, "--html", html])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let check = try renderCheck(html)
            #expect(check.status == 0, "\(name): \(check.stdout) \(check.stderr)")
        }
    }

    @Test func reportsOfRealRunsRenderInChromium() throws {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        try #require(browserInstalled(), "no headless Chromium: scripts/test installs chromium-headless-shell")
        let dir = try TempDir()
        let host = HostSnapshot()
        let run = try Thplab.run(["run", "retract", "--trigger", "khugepaged", "--json", dir.path + "/retract.json",
                                  "--html", dir.path + "/retract.html"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let sweep = try Thplab.run(["sweep", "sparse", "--knob", "max_ptes_none=255,511", "--present", "256", "--extents", "2",
                                    "--json", dir.path + "/sweep.json", "--html", dir.path + "/sweep.html",
                                    "--csv", dir.path + "/sweep.csv"], timeout: 120)
        #expect(sweep.status == 0, "\(sweep.stderr)")
        host.expectRestored()
        let csv = try String(contentsOfFile: dir.path + "/sweep.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 3, "a header and a row per point")
        let both = try Thplab.run(["report", dir.path + "/retract.json", dir.path + "/sweep.json", "--html", dir.path + "/both.html"])
        #expect(both.status == 0, "\(both.stderr)")
        for name in ["retract.html", "sweep.html", "both.html"] {
            let r = try renderCheck(dir.path + "/" + name)
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(r.stdout.contains("chart(s)/map(s) with data"))
        }
        // The check can fail: the same sweep with its points taken out.
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/sweep.json"))) as? [String: Any])
        json["points"] = []
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir.path + "/empty.json"))
        #expect(try Thplab.run(["report", dir.path + "/empty.json", "--html", dir.path + "/empty.html"]).status == 0)
        let empty = try renderCheck(dir.path + "/empty.html")
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("is empty"))
        // And for a series drawn under another: the saved sparse sweep's two
        // lines coincide at 100%; with every marker the same size the second
        // would vanish under the first.
        let saved = Self.repo + "/Tests/THPLabTests/Fixtures/result-sweep-sparse-6.18.json"
        #expect(try Thplab.run(["report", saved, "--html", dir.path + "/coincide.html"]).status == 0)
        let page = try String(contentsOfFile: dir.path + "/coincide.html", encoding: .utf8)
        #expect(try renderCheck(dir.path + "/coincide.html").status == 0, "as thplab draws it, both series show")
        try page.replacing(/\ r="[0-9.]+" fill=/, with: " r=\"3\" fill=").write(toFile: dir.path + "/hidden.html", atomically: false, encoding: .utf8)
        let hidden = try renderCheck(dir.path + "/hidden.html")
        #expect(hidden.status == 1)
        #expect(hidden.stderr.contains("is hidden under another"), "\(hidden.stderr)")
    }
}
}
