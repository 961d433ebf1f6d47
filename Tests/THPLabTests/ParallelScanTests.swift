import Foundation
import Testing
@testable import THPLab

/// The scan on every core gives the single-threaded scan's answer: units
/// cut only on the 64 MiB grid, outcomes joined in address order.
@Suite struct ParallelScanTests {
    static let mib = UInt(1 << 20)

    @Test func unitsCoverEveryRangeOnTheChunkGridWithoutGaps() {
        let chunk = VmaScanner.chunkBytes
        let base = UInt(0x7f00_0000_0000)
        // A 1 GiB VMA that starts 4 KiB past the grid, a small one, an 8 GiB one.
        let ranges: [(UInt, UInt)] = [(base + 4096, base + 1024 * Self.mib), (base + 2048 * Self.mib, base + 2052 * Self.mib),
                                      (base + 4096 * Self.mib, base + 12288 * Self.mib)]
        let units = ParallelScan.units(ranges, workers: 2)
        for (v, (start, end)) in ranges.enumerated() {
            let mine = units.filter { $0.vma == v }
            #expect(mine.first?.start == start && mine.last?.end == end)
            for (a, b) in zip(mine, mine.dropFirst()) {
                #expect(a.end == b.start)
                #expect(a.end % chunk == 0, "a cut off the chunk grid: \(String(a.end, radix: 16))")
            }
        }
        // About 64 units a worker over the 9 GiB mapped (9/128 GiB, 72 MiB,
        // rounded up to whole chunks: 128 MiB, on a grid of that size): the
        // 8 GiB VMA in 64, none over 128 MiB.
        #expect(units.filter { $0.vma == 2 }.count == 64)
        #expect(units.allSatisfy { $0.end - $0.start <= 128 * Self.mib })
        #expect(units.filter { $0.vma == 1 }.count == 1)
        // One worker: still whole chunks, never smaller.
        #expect(ParallelScan.units([(base, base + 64 * Self.mib)], workers: 8).count == 1)
    }

    /// Extents of the first VMA of the fake /proc: 512 MiB, eight chunks.
    static let extents = 256

    /// A /proc of one process (pid 1) whose pagemap and kpageflags are the
    /// real 6.18 fixture's five mappings, laid out over a 512 MiB VMA: extent
    /// k holds mapping k % 5 when k % 3 != 1, nothing otherwise; a second
    /// VMA of 64 MiB holds the small pages once.
    static func create(_ path: String) throws -> FileHandle {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return try #require(FileHandle(forWritingAtPath: path))
    }

    /// The fixture mapping extent k of the first VMA holds, if any.
    static func layout(_ k: Int, names: [String]) -> String? { k % 3 != 1 ? names[k % names.count] : nil }

    static func fakeProc() throws -> (root: String, entries: [SmapsEntry]) {
        let m = try ClassifierFixtureTests.load()
        let names = m.keys.sorted()
        let root = try Sys.makeTemporaryDirectory(prefix: NSTemporaryDirectory() + "parallel-scan-")
        try FileManager.default.createDirectory(atPath: root + "/1", withIntermediateDirectories: true)
        let base = UInt(0x7f00_0000_0000), page = UInt(4096)
        let vmas: [(UInt, UInt)] = [(base, base + UInt(extents) * 2 * mib), (base + 2048 * mib, base + 2112 * mib)]
        let maps = vmas.map { String($0.0, radix: 16) + "-" + String($0.1, radix: 16) + " rw-s 00000000 00:01 1234 /memfd:x (deleted)\n" }.joined()
        try maps.write(toFile: root + "/1/maps", atomically: false, encoding: .utf8)

        let pagemap = try Self.create(root + "/1/pagemap")
        func put(_ words: [UInt64], at index: UInt) throws {
            try pagemap.seek(toOffset: UInt64(index) * 8)
            pagemap.write(words.withUnsafeBufferPointer { Data(buffer: $0) })
        }
        for k in 0..<extents {
            if let name = layout(k, names: names) { try put(m[name]!.entries, at: (base + UInt(k) * 2 * mib) / page) }
        }
        try put(m["small"]!.entries, at: (vmas[1].0 + 6 * mib) / page)
        try pagemap.close()

        let kpf = try Self.create(root + "/kpageflags")
        for mapping in m.values {
            let first = mapping.entries[0] & Pagemap.pfnMask
            guard first != 0 else { continue }
            try kpf.seek(toOffset: (first - UInt64(mapping.blockOffset)) * 8)
            kpf.write(mapping.block.withUnsafeBufferPointer { Data(buffer: $0) })
            for (e, f) in zip(mapping.entries, mapping.flags) where e & Pagemap.pfnMask != 0 {
                try kpf.seek(toOffset: (e & Pagemap.pfnMask) * 8)
                kpf.write(withUnsafeBytes(of: f.littleEndian) { Data($0) })
            }
        }
        try kpf.close()
        return (root, SmapsParser.parse(maps))
    }

    @Test(arguments: [2, 3, 8])
    func theAnswerIsTheSingleThreadedOnesExtentByExtent(workers: Int) throws {
        let (root, entries) = try Self.fakeProc()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let proc = ProcFS(root: root)
        let make: @Sendable () throws -> VmaScanner = { try VmaScanner(pid: 1, withPages: true, proc: proc) }
        let one = try ParallelScan.scan(entries, workers: 1, parallelFrom: 0, makeScanner: make)
        let many = try ParallelScan.scan(entries, workers: workers, parallelFrom: 0, makeScanner: make)
        #expect(one.failure == nil && many.failure == nil)
        // The fixture's classes are all there: the test is not of empty pages.
        let total = one.scanned.reduce(into: ClassCounts()) { $0 += $1.1.counts }
        let names = try ClassifierFixtureTests.load().keys.sorted()
        let smallExtents = (0..<Self.extents).filter { Self.layout($0, names: names) == "small" }.count + 1
        #expect(total.small == 512 * smallExtents && total.pteThp > 0 && total.none > 0, "\(total)")
        #expect(many.scanned.count == one.scanned.count)
        for ((e1, o1), (e2, o2)) in zip(one.scanned, many.scanned) {
            #expect(e1.start == e2.start)
            #expect(o1.counts == o2.counts)
            #expect(o1.extents == o2.extents)
            #expect(o1.candidates == o2.candidates)
            // The candidates name extents fully of one PMD-sized folio.
            #expect(o2.candidates.allSatisfy { o2.extents[$0].pages.pteThp == PageGeometry.pagesPerPmd })
        }
        #expect(one.seen.sawPFN == many.seen.sawPFN && one.seen.sawPresent == many.seen.sawPresent)
    }

    /// A unit that fails (the process exited) ends the answer at its VMA:
    /// the VMAs before it are kept whole, as the single-threaded scan keeps them.
    @Test func aFailedUnitEndsTheAnswerAtItsVma() throws {
        let entries = SmapsParser.parse("7f0000000000-7f0010000000 rw-p 00000000 00:00 0\n7f0020000000-7f0030000000 rw-p 00000000 00:00 0\n")
        let units = ParallelScan.units(entries.map { ($0.start, $0.end) }, workers: 2)
        var outcomes: [Int: Result<VmaScanner.Outcome, Error>] = [:]
        var o = VmaScanner.Outcome()
        o.counts.small = 1
        o.extents = [ExtentCoverage(start: 0, end: 1, pages: o.counts, pageClasses: nil)]
        o.candidates = [0]
        for (i, u) in units.enumerated() {
            outcomes[i] = u.vma == 1 && u.start > entries[1].start ? .failure(THPLabError(.usage, "gone")) : .success(o)
        }
        let r = ParallelScan.merge(entries, units: units, outcomes: outcomes, seen: .init())
        #expect(r.scanned.count == 1)
        let first = units.filter { $0.vma == 0 }.count
        #expect(r.scanned[0].1.counts.small == first)
        // Candidate indices shifted past the extents of the units before.
        #expect(r.scanned[0].1.candidates == Array(0..<first))
        #expect(r.failure?.entry.start == entries[1].start)
    }
}
