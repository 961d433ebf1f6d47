import Foundation
import Testing

extension KernelSuite {
/// The tuning scenarios and sweeps on the real kernel.
@Suite struct ScenarioKernelTests {
    /// - Parameter status: the exit status wanted; nil takes 0 or 1 (done,
    ///   with or without a difference), for runs judged on what they measured.
    func run(_ args: [String], expect status: Int32? = 0, timeout: Double = 120,
             sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try Thplab.runJSON(args, status: status, timeout: timeout, sourceLocation: sourceLocation)
    }

    func points(_ json: [String: Any]) -> [(knobs: [String: String], collapsed: Int, full: Double?)] {
        (json["points"] as? [[String: Any]] ?? []).map {
            ($0["knobs"] as? [String: String] ?? [:], $0["collapsed"] as? Int ?? -1, $0["full_coverage_ms"] as? Double)
        }
    }

    @Test(arguments: [(256, 255, 256), (128, 383, 384)])
    func sparseJustBelowAndAtTheThreshold(present: Int, below: Int, at: Int) throws {
        let json = try run(["sweep", "sparse", "--present", "\(present)", "--extents", "2",
                            "--knob", "max_ptes_none=\(below),\(at)"])
        let p = points(json)
        #expect(p.count == 2)
        #expect(p.first { $0.knobs["khugepaged/max_ptes_none"] == "\(below)" }?.collapsed == 0,
                "\(present) present < 512 - \(below): no collapse")
        #expect(p.first { $0.knobs["khugepaged/max_ptes_none"] == "\(at)" }?.collapsed == 2,
                "\(present) present >= 512 - \(at): collapse")
        let check = (json["checks"] as? [[String: Any]])?.first
        #expect(check?["held"] as? Bool == true)
        #expect(json["ok"] as? Bool == true)
    }

    /// The sweep measures time to full coverage at each point and states the
    /// ordering as a check; the figures are printed, never asserted (timings
    /// are for scripts/bench). What must hold: every point reached full
    /// coverage, and the exit status follows the check.
    @Test func latencySweepMeasuresEveryPoint() throws {
        let json = try run(["sweep", "latency", "--extents", "4", "--knob", "scan_sleep_millisecs=10,200",
                            "--knob", "pages_to_scan=512"], expect: nil)
        let p = points(json)
        #expect(p.count == 2)
        for point in p {
            #expect(point.collapsed == 4, "\(point.knobs)")
            #expect(point.full != nil, "\(point.knobs) reached full coverage")
        }
        print("latency to full coverage: " + p.map { "scan_sleep_millisecs \($0.knobs["khugepaged/scan_sleep_millisecs"] ?? "?") -> \($0.full ?? -1) ms" }.joined(separator: ", "))
        let check = try #require((json["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "latency ordering" })
        let detail = check["detail"] as? String ?? ""
        #expect(detail.contains("10: ") && detail.contains("200: "), "\(detail)")
        #expect(json["ok"] as? Bool == (check["held"] as? Bool), "ok follows the ordering check")
    }

    @Test func latencyOfRegionsInCompetingProcesses() throws {
        let json = try run(["knobs", "set", "scan_sleep_millisecs=20", "pages_to_scan=512", "--", Thplab.binary,
                            "run", "latency", "--processes", "3", "--extents", "2"])
        let extents = json["extents"] as? [[String: Any]] ?? []
        #expect(extents.count == 6)
        #expect(Set(extents.compactMap { $0["pid"] as? Int }).count == 3)
        #expect(extents.allSatisfy { $0["collapsed"] as? Bool == true && $0["latency_ms"] is Double })
        let latency = json["latency"] as? [String: Any]
        // Exact times need the kernel's file-collapse tracepoint (6.1 has none).
        let traced = ((json["trace"] as? [String: Any])?["events"] as? [String: Any])?["mm_khugepaged_collapse_file"] != nil
        #expect(latency?["source"] as? String == (traced ? "tracepoints" : "polling"))
        #expect((latency?["full_coverage_ms"] as? Double ?? 0) > 0)
    }

    @Test(arguments: [["--backing", "anon"], ["--backing", "anon", "--trigger", "khugepaged"],
                      ["--backing", "tmpfs", "--trigger", "khugepaged"], ["--backing", "memfd"]])
    func collapseEveryExtent(args: [String]) throws {
        let json = try run(["run", "collapse", "--extents", "2"] + args)
        #expect(json["collapsed"] as? Int == 2)
        #expect(json["ok"] as? Bool == true)
        for e in json["extents"] as? [[String: Any]] ?? [] {
            let after = (e["pages_after"] as? [String: Any])?["pmd"] as? Int
            #expect(after == 512, "extent \(e["start"] ?? "") after: \(e["pages_after"] ?? "")")
        }
    }

    @Test func collapseOfARegularFileIsExplained() throws {
        let json = try run(["run", "collapse", "--extents", "1", "--backing", "file", "--dir", NSTemporaryDirectory()])
        #expect(json["collapsed"] as? Int == 0)
        #expect((json["rule"] as? String)?.contains("CONFIG_READ_ONLY_THP_FOR_FS") == true)
        #expect((json["extents"] as? [[String: Any]])?.first?["errno_name"] as? String == "EINVAL")
    }

    @Test func swapRuleAtTheThreshold() throws {
        let json = try run(["sweep", "swap", "--swapped", "64", "--extents", "2", "--knob", "max_ptes_swap=63,64"])
        let p = points(json)
        #expect(p.first { $0.knobs["khugepaged/max_ptes_swap"] == "63" }?.collapsed == 0, "64 swapped > 63")
        #expect(p.first { $0.knobs["khugepaged/max_ptes_swap"] == "64" }?.collapsed == 2, "64 swapped <= 64")
        #expect((json["checks"] as? [[String: Any]])?.first?["held"] as? Bool == true)
    }

    /// Needs a host without swap, so that the run makes its own swap file
    /// (in /var/tmp) or, where the directory cannot hold one (/dev/shm),
    /// uses zram0: the next start swaps it off and resets zram0.
    @Test(.enabled(if: HostState.swaps().isEmpty, "the host has swap: thplab would use it and make none"),
          arguments: ["/var/tmp", "/dev/shm"])
    func aKilledSwapRunLeavesNoSwapBehind(directory: String) throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let disksize = try? String(contentsOfFile: "/sys/block/zram0/disksize", encoding: .utf8)
        defer { #expect((try? String(contentsOfFile: "/sys/block/zram0/disksize", encoding: .utf8)) == disksize, "zram0 left sized") }
        // A swap run that waits: 512 swapped pages are more than max_ptes_swap allows.
        let (p, o, e) = try Thplab.start(["run", "swap", "--swapped", "512", "--extents", "1", "--timeout", "60", "--full-wait",
                                          "--swap-dir", directory])
        let deadline = Date().addingTimeInterval(20)
        while HostState.swaps().isEmpty && Date() < deadline { usleep(20_000) }
        #expect(!HostState.swaps().isEmpty, "the run made a swap file")
        kill(p.processIdentifier, SIGKILL)
        _ = Thplab.finish(p, o, e, timeout: 20)
        #expect(!HostState.swaps().isEmpty)
        let r = try Thplab.run(["knobs", "restore"], timeout: 60)
        #expect(r.status == 0)
        #expect(r.stdout.contains("swapoff"))
        host.expectRestored()
    }

    /// A swap directory that cannot hold a swap file (tmpfs): the run uses
    /// zram0 instead, and leaves zram as it found it (module, device size,
    /// swap areas). The collapse count is the model's.
    @Test(.enabled(if: HostState.swaps().isEmpty, "the host has swap: thplab would use it and make none"))
    func swapOnZramWhereTheDirectoryCannotHoldSwap() throws {
        func zram() -> (module: Bool, device: Bool, disksize: String?) {
            (FileManager.default.fileExists(atPath: "/sys/module/zram"), FileManager.default.fileExists(atPath: "/sys/block/zram0"),
             try? String(contentsOfFile: "/sys/block/zram0/disksize", encoding: .utf8))
        }
        let before = zram()
        let json = try run(["run", "swap", "--swap-dir", "/dev/shm", "--swapped", "64", "--extents", "2"])
        let notes = json["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("zram") && $0.contains("/dev/shm cannot hold a swap file") }, "\(notes)")
        #expect(json["collapsed"] as? Int == json["expected_collapsed"] as? Int, "\(json["differences"] ?? "")")
        #expect((json["options"] as? [String: Any])?["swap_directory"] as? String == "/dev/shm")
        let after = zram()
        #expect(after.module == before.module && after.device == before.device && after.disksize == before.disksize,
                "zram before \(before), after \(after)")
    }

    /// A host that has swap: thplab uses it and adds none of its own. The
    /// test gives the host a swap file for the run and takes it away.
    @Test func aHostsOwnSwapIsUsedAndNoneAdded() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        let file = "/var/tmp/thplab-test-hostswap-\(getpid())"
        try #require(Shell.succeeds(["fallocate", "-l", "64M", file]) && chmod(file, 0o600) == 0 && Shell.succeeds(["mkswap", file])
                     && Shell.succeeds(["swapon", file]), "could not give the host a swap file")
        defer {
            _ = Shell.succeeds(["swapoff", file])
            unlink(file)
            host.expectRestored()
        }
        let before = HostState.swaps()
        let r = try Thplab.run(["run", "swap", "--swapped", "32", "--extents", "1", "--json", "-"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        #expect(!((json["notes"] as? [String]) ?? []).contains { $0.contains("thplab made") }, "\(json["notes"] ?? "")")
        #expect(HostState.swaps() == before, "no swap area added or removed")
        #expect(json["collapsed"] as? Int == 1)
    }

    @Test func badSweepsChangeNothing() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        for args in [["--knob", "max_ptes_none=0,600"], ["--knob", "nonsense=1"], ["--knob", "../enabled=always"], []] {
            let r = try Thplab.run(["sweep", "sparse"] + args, timeout: 30)
            #expect(r.status == 2, "\(args): \(r.stderr)")
        }
        host.expectRestored()
    }
}
}
