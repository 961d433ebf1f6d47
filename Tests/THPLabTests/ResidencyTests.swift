import Foundation
import Testing
@testable import THPLab

/// `watch`'s two walks of the same quiescent ranges, as the 6.18 kernel
/// answered them (Fixtures/pagemap-scan-residency-6.18.txt): the one that
/// reports present and swapped pages, and the one that reports all but
/// present small pages, from whose silence the small pages are counted.
@Suite struct ResidencyTests {
    struct Walks {
        var start: UInt64 = 0, end: UInt64 = 0
        var normal: [PagemapScan.Region] = [], inverted: [PagemapScan.Region] = [], probe: [PagemapScan.Region] = []
    }

    static func ranges() throws -> [String: Walks] {
        var out: [String: Walks] = [:]
        var name = "", list = ""
        for line in try Fixture.text("pagemap-scan-residency-6.18.txt").split(separator: "\n") where !line.hasPrefix("#") {
            let w = line.split(separator: " ")
            if w[0] == "range" {
                name = String(w[1])
                out[name] = Walks(start: UInt64(w[2], radix: 16)!, end: UInt64(w[3], radix: 16)!)
            } else if w.count == 2 {
                list = String(w[0])
            } else {
                let r = PagemapScan.Region(start: UInt64(w[0], radix: 16)!, end: UInt64(w[1], radix: 16)!, categories: UInt64(w[2], radix: 16)!)
                switch list {
                case "normal": out[name]!.normal.append(r)
                case "inverted": out[name]!.inverted.append(r)
                default: out[name]!.probe.append(r)
                }
            }
        }
        return out
    }

    @Test func theSilenceOfTheInvertedWalkCountsWhatThePositiveWalkReports() throws {
        let ranges = try Self.ranges()
        let anon = try #require(ranges["anon"])
        let counted = Residency.counting(anon.normal)
        let complemented = Residency.complementing(anon.inverted, start: anon.start, end: anon.end, probe: [])
        #expect(complemented == counted)
        // What the fixture's process made: 2 THPs and the huge zero page
        // (6 MiB) and one more THP, split by paging half of it out (1 MiB
        // swapped); 1 MiB of small zero pages, every other page of 1 MiB,
        // 1 MiB of small pages; the rest never touched.
        #expect(counted.pmdKB == 6 * 1024)
        #expect(counted.swappedKB == 1024)
        #expect(counted.residentKB == 6 * 1024 + 1024 + 1024 + 512 + 1024)
        // The inverted walk left out every present small page, and only them.
        #expect(!anon.inverted.contains { $0.isPresent && !$0.isHuge })
        #expect(anon.normal.contains { $0.isPresent && !$0.isHuge })
    }

    @Test func aRangeOfSmallPagesOnlyIsSilentButWalked() throws {
        let full = try #require(try Self.ranges()["anon-small-full"])
        #expect(full.inverted.isEmpty && full.probe.count == 1)
        #expect(Residency.complementing(full.inverted, start: full.start, end: full.end, probe: full.probe) == Residency.counting(full.normal))
        #expect(Residency.counting(full.normal).residentKB == 1024)
    }

    @Test func aVmPfnmapRangeIsNotWalkedAtAll() throws {
        // [vvar]: silent to both walks and to the probe, so nothing of it is
        // resident (the silence of the inverted walk alone would say all).
        let vvar = try #require(try Self.ranges()["vvar"])
        #expect(vvar.normal.isEmpty && vvar.inverted.isEmpty && vvar.probe.isEmpty)
        #expect(Residency.complementing(vvar.inverted, start: vvar.start, end: vvar.end, probe: vvar.probe) == Residency())
        #expect(Residency.counting(vvar.normal) == Residency())
    }
}

/// A VMA list that changed while `watch` walked it: what stayed the same
/// keeps its walk, the rest is walked again (Fixtures/maps-before-after-6.18.txt).
@Suite struct WatchReconcileTests {
    @Test func onlyTheVmasThatChangedAreWalkedAgain() throws {
        let text = try Fixture.text("maps-before-after-6.18.txt")
        let parts = text.components(separatedBy: "\nafter\n")
        try #require(parts.count == 2)
        let before = MapsList.parse(String(parts[0].split(separator: "\n").drop { $0 != "before" }.dropFirst().joined(separator: "\n")))
        let after = MapsList.parse(parts[1])
        try #require(before.count == 25 && after.count == 26, "[vsyscall] left out of \(before.count) and \(after.count)")
        // Each VMA's tally names it: its size in kB, so a sum says which were counted.
        let tallies = before.map { Residency(residentKB: Int($0.end - $0.start) / 1024) }
        var walked: [String] = []
        let total = Watcher.reconcile(before: before, tallies: tallies, after: after) { v in
            walked.append(String(v.line.prefix(12 + 1 + 12)))
            return Residency(residentKB: Int(v.end - v.start) / 1024, swappedKB: 1)
        }
        // The two halves of the split VMA and the new one; not the unmapped one.
        #expect(walked == ["7f12bbb00000-7f12bbe00000", "7f12bbe00000-7f12bc200000", "7f12bc200000-7f12bc600000"])
        let sizes = after.reduce(0) { $0 + Int($1.end - $1.start) / 1024 }
        #expect(total == Residency(residentKB: sizes, swappedKB: 3))
        #expect(Watcher.reconcile(before: before, tallies: tallies, after: after) { _ in nil } == nil, "a process gone while walked again")
        #expect(Watcher.reconcile(before: before, tallies: tallies, after: before) { _ in nil } == tallies.reduce(into: Residency()) { $0 += $1 })
    }
}

/// A walk that stopped early, as 6.18 answered it for a Python process
/// (Fixtures/pagemap-scan-stop-6.18.txt): the first call's last range runs
/// past where it says it stopped, and the second call reports it again.
@Suite struct PagemapScanStopTests {
    @Test func rangesPastTheStopAreLeftToTheNextCall() throws {
        var start: UInt64 = 0, end: UInt64 = 0, rss = 0
        var calls: [(cursor: UInt64, walkEnd: UInt64, regions: [PagemapScan.Region])] = []
        for line in try Fixture.text("pagemap-scan-stop-6.18.txt").split(separator: "\n") where !line.hasPrefix("#") {
            let w = line.split(separator: " ")
            switch w[0] {
            case "vma": start = UInt64(w[1], radix: 16)!; end = UInt64(w[2], radix: 16)!
            case "rss_kb": rss = Int(w[1])!
            case "call": calls.append((UInt64(w[1], radix: 16)!, UInt64(w[3], radix: 16)!, []))
            default:
                calls[calls.count - 1].regions.append(PagemapScan.Region(start: UInt64(w[0], radix: 16)!, end: UInt64(w[1], radix: 16)!,
                                                                         categories: UInt64(w[2], radix: 16)!))
            }
        }
        try #require(calls.count == 2 && calls[0].walkEnd < calls[0].regions.last!.end, "the fixture's first call ran past its stop")
        var standing: [PagemapScan.Region] = []
        for call in calls {
            let stop = PagemapScan.stop(cursor: call.cursor, walkEnd: call.walkEnd, end: end)
            standing += call.regions.compactMap { PagemapScan.cut($0, at: stop) }
        }
        #expect(zip(standing, standing.dropFirst()).allSatisfy { $0.end <= $1.start }, "ranges overlap")
        #expect(Residency.complementing(standing, start: start, end: end, probe: []).residentKB == rss)
        // Taken whole, the two calls count the tail twice.
        let whole = calls.flatMap(\.regions)
        #expect(Residency.complementing(whole, start: start, end: end, probe: []).residentKB < 0)
    }
}

/// `watch`'s byte-by-byte reading of the VMA list against the smaps
/// header parser, on every maps and smaps fixture, and on damaged lines.
@Suite struct MapsListTests {
    @Test func itReadsTheRangesTheSmapsParserReads() throws {
        let directory = URL(fileURLWithPath: Fixture.path("vmstat-6.18.txt")).deletingLastPathComponent().path
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix("smaps-") || $0.hasPrefix("maps-") }.sorted()
        try #require(names.count >= 5)
        var lines = 0
        for name in names {
            let text = try Fixture.text(name)
            let ours = MapsList.parse(text)
            let theirs = text.split(separator: "\n").compactMap { SmapsParser.parseHeader($0) }.filter { $0.name != "[vsyscall]" }
            #expect(ours.map { [$0.start, $0.end] } == theirs.map { [UInt64($0.start), UInt64($0.end)] }, "\(name)")
            #expect(ours.allSatisfy { SmapsParser.parseHeader($0.line) != nil }, "\(name): a whole line each")
            lines += ours.count
        }
        #expect(lines > 500)
    }

    @Test func damagedLinesAreLeftOut() {
        let text = "7f00-7f10 rw-p 0 00:00 0\n7f10-7f00 rw-p\nzz-7f20 r--p\n7f20 r--p\n-7f30 r--p\n7f30-7f40\n12345678901234567-7f50 r--p\n\n7f50-7f60 r--p 0 00:00 0 [vsyscall]\n7f60-7f70 r--p"
        #expect(MapsList.parse(text).map { [$0.start, $0.end] } == [[0x7f00, 0x7f10], [0x7f60, 0x7f70]])
    }
}
