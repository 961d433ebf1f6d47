import Foundation
import Testing
@testable import THPLab

/// kpageflags are read run by run where PFNs follow each other page after
/// page, and sorted into coalesced windows where they are scattered: both
/// give every page the class its flags say.
@Suite struct VmaScannerTests {
    static let base = UInt(0x7f00_0000_0000)
    static let pages = 512

    /// A /proc of pid 1 with two 2 MiB shmem VMAs over the same 512 PFNs
    /// from `firstPFN`: a 16-page folio at its start (head and tails), then
    /// order-0 pages. The first VMA maps page i to PFN i (one run), the
    /// second to PFN 7i mod 512 (no two neighbours adjacent).
    static func fakeProc(firstPFN: UInt64) throws -> String {
        let root = try Sys.makeTemporaryDirectory(prefix: NSTemporaryDirectory() + "vma-scanner-")
        try FileManager.default.createDirectory(atPath: root + "/1", withIntermediateDirectories: true)
        let vmas = [base, base + 4 * UInt(1 << 20)]
        let maps = vmas.map { String($0, radix: 16) + "-" + String($0 + UInt(2 << 20), radix: 16) + " rw-s 00000000 00:01 99 /memfd:runs (deleted)\n" }.joined()
        try maps.write(toFile: root + "/1/maps", atomically: false, encoding: .utf8)
        var pagemap = [UInt64](repeating: 0, count: Int((vmas[1] + UInt(2 << 20) - base) / 4096))
        for i in 0..<pages {
            pagemap[i] = Pagemap.present | Pagemap.fileOrSharedAnon | (firstPFN + UInt64(i))
            pagemap[(1 << 10) + i] = Pagemap.present | Pagemap.fileOrSharedAnon | (firstPFN + UInt64(7 * i % pages))
        }
        try write(pagemap, at: base / 4096, to: root + "/1/pagemap")
        let flags = (0..<pages).map { i -> UInt64 in
            i == 0 ? Pagemap.KPF.compoundHead : i < 16 ? Pagemap.KPF.compoundTail : 0
        }
        try write(flags, at: UInt(firstPFN), to: root + "/kpageflags")
        return root
    }

    static func write(_ words: [UInt64], at index: UInt, to path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let h = try #require(FileHandle(forWritingAtPath: path))
        try h.seek(toOffset: UInt64(index) * 8)
        h.write(words.withUnsafeBufferPointer { Data(buffer: $0) })
        try h.close()
    }

    @Test func pfnRunsAndScatteredPfnsGiveEachPageItsFolio() throws {
        let root = try Self.fakeProc(firstPFN: 0x40000)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let scanner = try VmaScanner(pid: 1, withPages: true, proc: ProcFS(root: root))
        #expect(!scanner.useScan, "a plain file answers no PAGEMAP_SCAN: every page goes through pagemap and kpageflags")
        let runs = try scanner.scan(start: Self.base, end: Self.base + UInt(2 << 20))
        let scattered = try scanner.scan(start: Self.base + UInt(4 << 20), end: Self.base + UInt(6 << 20))
        for outcome in [runs, scattered] {
            #expect(outcome.counts.mthp == 16 && outcome.counts.small == Self.pages - 16, "\(outcome.counts)")
            #expect(outcome.counts.mthpSizes == ["64": 16])
            #expect(outcome.counts.anon == 0)
        }
        // Page by page: in the second VMA, page i holds PFN 7i mod 512, so
        // exactly the pages whose PFN is in the folio are `m`.
        let letters = Array(try #require(scattered.extents.first?.pageClasses))
        for i in 0..<Self.pages {
            #expect(letters[i] == (7 * i % Self.pages < 16 ? "m" : "s"), "page \(i)")
        }
        #expect(String(try #require(runs.extents.first?.pageClasses)) == String(repeating: "m", count: 16) + String(repeating: "s", count: Self.pages - 16))
    }
}
