import Foundation
import Testing

extension KernelSuite {
/// The same experiment on Debian's 6.1 kernel, booted with virtme-ng.
/// Each boot takes about 25-40 s under software emulation.
@Suite struct VMKernelTests {
    func kernel() throws -> String {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        return try #require(KernelGate.kernel61, "Debian's 6.1 kernel is not installed: scripts/install-vm-tools")
    }

    func vm(_ args: [String], timeout: Double = 900) throws -> Invocation {
        let host = HostSnapshot()
        let r = try Thplab.run(["vm", "--kernel", try kernel(), "--json", "-", "--"] + args, timeout: timeout)
        #expect(!r.timedOut)
        host.expectRestored()
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("thplab-vm-") }
        #expect(leftovers.isEmpty, "exchange directories left: \(leftovers)")
        return r
    }

    func rows(_ result: [String: Any]?) -> [(role: String, trigger: Bool, own: Bool, state: String?)] {
        (result?["mappings"] as? [[String: Any]] ?? []).map {
            ($0["role"] as? String ?? "", $0["trigger_mapping"] as? Bool ?? false, $0["in_trigger_process"] as? Bool ?? false,
             ($0["phases"] as? [String: [String: Any]])?["refaulted"]?["state"] as? String)
        }
    }

    /// Measured on Debian's 6.1: MADV_COLLAPSE gives its own range a PMD and
    /// retracts no other page table, in thplab's process or the worker's.
    @Test func retractByMadviseOn61() throws {
        let r = try vm(["run", "retract"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        #expect(json["acceleration"] as? String != nil)
        let result = json["result"] as? [String: Any]
        #expect((result?["kernel_release"] as? String)?.hasPrefix("6.1.") == true)
        #expect(result?["ok"] as? Bool == true, "\(result?["differences"] ?? "")")
        for row in rows(result) {
            let want = row.trigger ? "pmd-mapped" : "pte-mapped"
            #expect(row.state == want, "\(row.role) (own process: \(row.own)) on 6.1: \(row.state ?? "?")")
        }
    }

    /// khugepaged's retraction takes each mm's mmap_write_trylock() on 6.1:
    /// shared and private-clean mappings end up PMD-mapped, as on 6.18.
    @Test func retractByKhugepagedOn61() throws {
        let r = try vm(["run", "retract", "--trigger", "khugepaged"])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try r.json()["result"] as? [String: Any]
        #expect(result?["ok"] as? Bool == true, "\(result?["differences"] ?? "")")
        for row in rows(result) where row.role == "shared" || row.role == "private-clean" {
            #expect(row.state == "pmd-mapped", "\(row.role) on 6.1 by khugepaged")
        }
    }

    /// Debian's 6.1 has enabled=always and no PAGEMAP_SCAN: an anonymous
    /// region must still start small, and its collapse still be seen.
    @Test func anonymousCollapseByKhugepagedOn61() throws {
        let r = try vm(["run", "collapse", "--backing", "anon", "--trigger", "khugepaged", "--extents", "2", "--timeout", "60"])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try r.json()["result"] as? [String: Any]
        #expect(result?["collapsed"] as? Int == 2, "\(result?["differences"] ?? "")")
        let changed = (result?["knobs_changed"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(changed.contains("enabled"), "enabled=always must be lowered for populate: \(changed)")
        #expect((result?["knobs_before"] as? [String: String]) == (result?["knobs_after"] as? [String: String]))
    }

    @Test func matrixShowsTheReadOnlyPrivateMappingDiffer() throws {
        let host = HostSnapshot()
        let r = try Thplab.run(["matrix", "--kernel", try kernel(), "--host", "--json", "-", "--", "run", "retract"], timeout: 900)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        let rows = json["rows"] as? [[String: Any]] ?? []
        let privateClean = rows.filter { $0["role"] as? String == "private-clean" }
        #expect(privateClean.count == 2)
        #expect(privateClean.allSatisfy { $0["disagree"] as? Bool == true }, "\(privateClean)")
        let states = privateClean.first.flatMap { ($0["cells"] as? [[String: Any]])?.map { $0["observed"] as? String } }
        #expect(states == ["pmd-mapped", "pte-mapped"])
        #expect(json["ok"] as? Bool == true)
        host.expectRestored()
    }

    @Test func badKernelsAreRefused() throws {
        try #require(KernelGate.available)
        for (kernel, status) in [("/nonexistent/vmlinuz", Int32(2)), ("/etc/hostname", 2), ("9.9.9-not-installed", 2)] {
            let r = try Thplab.run(["vm", "--kernel", kernel, "--", "doctor"], timeout: 60)
            #expect(r.status == status, "\(kernel): \(r.stderr)")
        }
        let none = try Thplab.run(["vm", "--kernel", try kernel()], timeout: 60)
        #expect(none.status == 2, "no thplab arguments")
    }
}
}
