import Foundation
import Testing
@testable import THPLab

@Suite struct SnapshotDiffTests {
    @Test func realSnapshotsAroundACollapse() throws {
        let before = try SnapshotDiff.load(Fixture.path("snapshot-before-6.18.json"))
        let after = try SnapshotDiff.load(Fixture.path("snapshot-after-6.18.json"))
        #expect(before.processes.count == 1)
        let p = try #require(before.processes.first)
        #expect(p.method == "pagemap_scan")
        #expect(p.pfnsVisible)
        #expect(p.vmas.allSatisfy { $0.crosscheck.agree })
        // The classes of the holder's mappings, as the fixture recorded them.
        let byName = Dictionary(grouping: p.vmas, by: { $0.backing.name })
        #expect(byName["/memfd:holder-pmd (deleted)"]?.map { $0.pages.pmd + $0.pages.pteThp }.sorted() == [512, 512])
        #expect(byName["/memfd:holder-small (deleted)"]?.first?.pages.small == 512)

        let d = SnapshotDiff.diff(before: before, after: after)
        let pd = try #require(d.processes.first)
        #expect(pd.becameHugeKB == 2048)
        #expect(pd.stoppedHugeKB == 0)
        let changed = pd.vmas.filter { $0.change != "unchanged" }
        #expect(changed.count == 1)
        #expect(changed.first?.backing.name == "/memfd:holder-small (deleted)")
        #expect(changed.first?.extentsBecamePmd == 1)
        #expect(pd.coverageAfter > pd.coverageBefore)
        let text = DiffTextReport.render(d)
        #expect(text.contains("became huge"))
    }

    func vma(_ start: UInt, pmd: Int, small: Int, name: String = "/memfd:x") -> VmaCoverage {
        var c = ClassCounts()
        c.pmd = pmd
        c.small = small
        let extent = ExtentCoverage(start: start, end: start + 0x200000, pages: c, pageClasses: nil)
        return VmaCoverage(start: start, end: start + 0x200000, permissions: "rw-s",
                           backing: VmaBacking(name: name, device: "00:01", inode: 7, offset: 0), kind: .shmem,
                           pages: c, kb: c.kb(), coveragePercent: c.coveragePercent, smaps: [:], vmFlags: [], thpEligible: nil,
                           crosscheck: CrossCheck(pageTablesPmdKB: pmd * 4, smapsPmdKB: pmd * 4), extents: [extent])
    }

    func process(_ vmas: [VmaCoverage]) -> ProcessCoverage {
        let t = vmas.reduce(ClassCounts()) { $0 + $1.pages }
        return ProcessCoverage(pid: 42, comm: "x", vmas: vmas, totals: t, totalsKB: t.kb(), coveragePercent: t.coveragePercent,
                               pfnsVisible: true, method: "pagemap_scan", complete: true, notes: [])
    }

    @Test func becameStoppedAppearedDisappeared() {
        let before = process([vma(0x200000, pmd: 0, small: 512), vma(0x600000, pmd: 512, small: 0), vma(0xa00000, pmd: 0, small: 1, name: "/gone")])
        let after = process([vma(0x200000, pmd: 512, small: 0), vma(0x600000, pmd: 0, small: 512), vma(0xe00000, pmd: 0, small: 1, name: "/new")])
        let d = SnapshotDiff.diff(before: before, after: after)
        #expect(d.vmas.map(\.change) == ["became huge", "stopped being huge", "unchanged", "unchanged"])
        #expect(d.vmas.map(\.presence) == ["matched", "matched", "disappeared", "appeared"])
        #expect(d.becameHugeKB == 2048 && d.stoppedHugeKB == 2048)
    }

    @Test(arguments: [
        ("", "empty"),
        ("{\"schema_version\": 1, \"kind\": \"snap", "not JSON"),
        ("[1, 2, 3]", "another kind"),
        ("{\"scenario\": \"retract\"}", "no schema_version"),
        ("{\"what\": 1}", "another kind"),
        ("{\"kind\": \"watch\", \"schema_version\": 1}", "thplab watch result"),
        ("{\"kind\": \"snapshot\", \"schema_version\": 9}", "schema_version 9"),
        ("{\"kind\": \"snapshot\", \"schema_version\": 1, \"processes\": 3}", "damaged"),
    ])
    func refusesWhatIsNotASnapshot(content: String, says: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-diff-\(UUID().uuidString).json").path
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let e = #expect(throws: THPLabError.self) { try SnapshotDiff.load(path) }
        #expect(e?.exitCode == 2)
        #expect(e?.message.contains(says) == true, "\(e?.message ?? "")")
    }

    @Test func missingFile() {
        let e = #expect(throws: THPLabError.self) { try SnapshotDiff.load("/nonexistent/thplab.json") }
        #expect(e?.exitCode == 2)
    }
}

@Suite struct RemoteCollapseTargetTests {
    let vmas = SmapsParser.parse("""
        7f0000000000-7f0000400000 rw-s 00000000 00:01 5 /memfd:a
        7f0000400000-7f0000600000 rw-s 00400000 00:01 5 /memfd:a
        7f0000800000-7f0000901000 rw-p 00000000 00:00 0
        7f0000a01000-7f0000c00000 rw-p 00000000 00:00 0
        """)

    @Test func rangesAcrossAdjacentVmasAreAccepted() throws {
        let r = try RemoteCollapse.extents(for: .range(0x7f00_0000_0000, 0x7f00_0060_0000), vmas: vmas)
        #expect(r.0 == 0x7f00_0000_0000 && r.1 == 0x7f00_0060_0000)
    }

    @Test(arguments: [
        (RemoteCollapse.Target.range(0x7f00_0000_1000, 0x7f00_0020_0000), "not 2 MiB aligned"),
        (.range(0x7f00_0040_0000, 0x7f00_0080_0000), "no mapping at 0x7f0000600000"),  // runs past the VMAs into a hole
        (.range(0x1000_0000, 0x1020_0000), "no mapping at 0x10000000"),                 // outside everything
        (.range(0x7f00_0020_0000, 0x7f00_0020_0000), "is empty"),
        (.vma(0x1234), "no VMA contains 0x1234"),
        (.vma(0x7f00_00a0_1000), "holds no whole 2 MiB-aligned extent"),               // 7f0000a01000-7f0000c00000
    ])
    func badTargetsAreUsageErrors(target: RemoteCollapse.Target, says: String) {
        let e = #expect(throws: THPLabError.self) { try RemoteCollapse.extents(for: target, vmas: vmas) }
        #expect(e?.exitCode == 2)
        #expect(e?.message.contains(says) == true, "\(e?.message ?? "")")
    }

    @Test func aVmaGivesItsWholeAlignedExtents() throws {
        let r = try RemoteCollapse.extents(for: .vma(0x7f00_0010_0000), vmas: vmas)
        #expect(r.0 == 0x7f00_0000_0000 && r.1 == 0x7f00_0040_0000)
        // 7f0000800000-7f0000901000 holds no whole aligned extent.
        #expect(throws: THPLabError.self) { try RemoteCollapse.extents(for: .vma(0x7f00_0080_0000), vmas: vmas) }
    }

    @Test func errnoMeanings() {
        for e in [Errno.noMemory, .resourceBusy, .resourceTemporarilyUnavailable, .invalidArgument] {
            #expect(RemoteCollapse.meaning(of: e) != "unexpected")
        }
    }
}

import SystemPackage
