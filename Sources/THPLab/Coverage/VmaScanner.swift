import SystemPackage

/// Classifies every page of a process's VMAs, one chunk of at most 64 MiB
/// at a time, so memory stays small whatever the mapping size: PAGEMAP_SCAN
/// (where the kernel has it) finds the present, swapped and PMD-mapped
/// ranges; pagemap entries are read only for present pages not mapped by a
/// PMD, and kpageflags only for their PFNs, in sorted, coalesced runs.
final class VmaScanner {
    let pid: Int32
    let pagemap: FileDescriptor
    let kpageflags: FileDescriptor?
    let useScan: Bool
    let withPages: Bool
    /// Whether any PFN came back non-zero (CAP_SYS_ADMIN).
    private(set) var sawPFN = false
    private(set) var sawPresent = false

    static let pageSize = PageGeometry.pageSize
    static let extentSize = PageGeometry.pmdSize
    static let chunkPages = 16384

    let pagemapPath: String
    let kpageflagsPath: String

    init(pid: Int32, withPages: Bool, proc: ProcFS = .host) throws {
        self.pid = pid
        self.withPages = withPages
        let path = proc.path(pid, "pagemap")
        pagemapPath = path
        kpageflagsPath = proc.kpageflags
        do {
            pagemap = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
        } catch let e as Errno {
            switch e {
            case .noSuchFileOrDirectory: throw THPLabError.usage("no process \(pid)")
            case .permissionDenied, .notPermitted:
                throw THPLabError.unsupported("may not read \(path): reading another user's page tables needs root or CAP_SYS_PTRACE")
            default: throw THPLabError.system("cannot open \(path)", e)
            }
        }
        kpageflags = try? FileDescriptor.open(FilePath(kpageflagsPath), .readOnly, options: .closeOnExec)
        useScan = PagemapScan.isAvailable(fd: pagemap)
    }

    deinit {
        try? pagemap.close()
        try? kpageflags?.close()
    }

    struct Outcome {
        var counts = ClassCounts()
        var extents: [ExtentCoverage] = []
        /// Extents fully covered by one PMD-sized folio mapped at an aligned
        /// address: PMD-mapped or PTE-mapped, which only PAGEMAP_SCAN tells.
        var candidates: [Int] = []
    }

    static let chunkBytes = UInt(chunkPages * pageSize)

    /// The chunk of the fixed 64 MiB grid holding `address`, clipped to the VMA.
    static func chunk(of address: UInt, start: UInt, end: UInt) -> (UInt, UInt) {
        let base = address & ~(chunkBytes - 1)
        return (max(start, base), min(end, base + chunkBytes))
    }

    func scan(start: UInt, end: UInt) throws -> Outcome {
        var out = Outcome()
        guard useScan else {
            var chunkStart = start
            while chunkStart < end {
                let chunkEnd = Self.chunk(of: chunkStart, start: start, end: end).1
                try scanChunk(start: chunkStart, end: chunkEnd, regions: nil, into: &out)
                chunkStart = chunkEnd
            }
            return out
        }
        // One PAGEMAP_SCAN walk over the VMA; its ranges are cut at chunk
        // boundaries and each chunk with any is classified. Chunks without
        // a present or swapped page cost nothing but their count.
        var pending: [PagemapScan.Region] = []
        var current: (UInt, UInt)?
        var seenPages = 0
        func flush() throws {
            guard let c = current else { return }
            try scanChunk(start: c.0, end: c.1, regions: pending, into: &out)
            seenPages += Int((c.1 - c.0) / UInt(Self.pageSize))
            pending.removeAll(keepingCapacity: true)
            current = nil
        }
        try PagemapScan.forEach(fd: pagemap, start: UInt64(start), end: UInt64(end)) { r in
            var s = UInt(r.start)
            while s < UInt(r.end) {
                let c = Self.chunk(of: s, start: start, end: end)
                if current.map({ $0 != c }) ?? true {
                    try flush()
                    current = c
                }
                let e = min(UInt(r.end), c.1)
                pending.append(PagemapScan.Region(start: UInt64(s), end: UInt64(e), categories: r.categories))
                s = e
            }
        }
        try flush()
        out.counts.none += Int((end - start) / UInt(Self.pageSize)) - seenPages
        return out
    }

    /// One chunk's pages as they are classified: class, anonymous or not,
    /// and the size of the folio each belongs to.
    private struct ChunkPages {
        var classes: [PageClass]
        var anon: [Bool]
        var folio: [Int32]
        init(count n: Int) {
            classes = [PageClass](repeating: .none, count: n)
            anon = [Bool](repeating: false, count: n)
            folio = [Int32](repeating: 0, count: n)
        }
    }

    private func scanChunk(start: UInt, end: UInt, regions: [PagemapScan.Region]?, into out: inout Outcome) throws {
        let n = Int((end - start) / UInt(Self.pageSize))
        var pages = ChunkPages(count: n)
        // Ranges [i0, i1) of pages whose pagemap entries are needed.
        let needed = try regions.map { try mark($0, start: start, into: &pages) } ?? [(0, n)]
        if !needed.isEmpty {
            try classify(needed, start: start, pmdKnown: regions != nil, into: &pages)
        } else if pages.classes.contains(.pmd) {
            sawPresent = true
        }
        let folded = ExtentFolder.fold(start: start, classes: pages.classes, anon: pages.anon, folioPages: pages.folio, withPages: withPages)
        out.counts += folded.counts
        for e in folded.extents {
            if !useScan && e.pages.pteThp == PageGeometry.pagesPerPmd { out.candidates.append(out.extents.count) }
            out.extents.append(e)
        }
    }

    /// PAGEMAP_SCAN's regions: PMD-mapped and swapped pages are known from
    /// them; the present ones not PMD-mapped are left to classify.
    private func mark(_ regions: [PagemapScan.Region], start: UInt, into pages: inout ChunkPages) throws -> [(Int, Int)] {
        let page = UInt(Self.pageSize), pmdPages = PageGeometry.pagesPerPmd
        var needed: [(Int, Int)] = []
        for r in regions {
            let i0 = Int((UInt(r.start) - start) / page), i1 = Int((UInt(r.end) - start) / page)
            if r.isPresent && r.isHuge {
                // Whether a PMD maps anonymous memory: pagemap bit 61 of
                // each extent's first page (PAGE_IS_FILE would cost a
                // page lookup for every PTE of the walk).
                var i = i0
                while i < i1 {
                    let extentEnd = min(i1, i + pmdPages - Int(((start / page) + UInt(i)) % UInt(pmdPages)))
                    let e = try Pagemap.readWords(fd: pagemap, path: pagemapPath,
                                                  index: UInt64(start / page) + UInt64(i), count: 1).first ?? 0
                    let isAnon = e & Pagemap.present != 0 && e & Pagemap.fileOrSharedAnon == 0
                    if e & Pagemap.pfnMask != 0 { sawPFN = true }
                    for k in i..<extentEnd {
                        pages.classes[k] = .pmd
                        pages.anon[k] = isAnon
                        pages.folio[k] = Int32(pmdPages)
                    }
                    i = extentEnd
                }
            } else if r.isPresent {
                needed.append((i0, i1))
            } else if r.isSwapped {
                for i in i0..<i1 { pages.classes[i] = .swapped }
            }
        }
        return needed
    }

    /// Pagemap entries, then kpageflags, for the pages in `needed`.
    private func classify(_ needed: [(Int, Int)], start: UInt, pmdKnown: Bool, into pages: inout ChunkPages) throws {
        let page = UInt(Self.pageSize)
        var entries = [UInt64](repeating: 0, count: pages.classes.count)
        for (i0, i1) in needed {
            let words = try Pagemap.readWords(fd: pagemap, path: pagemapPath,
                                              index: UInt64(start / page) + UInt64(i0), count: i1 - i0)
            for (k, w) in words.enumerated() { entries[i0 + k] = w }
        }
        let flags = try kpageflagsFor(entries: entries, needed: needed)
        var blocks: [UInt64: [UInt64]] = [:]
        for (i0, i1) in needed {
            for i in i0..<i1 {
                let e = entries[i]
                if e & Pagemap.present != 0 { sawPresent = true }
                let pfn = e & Pagemap.pfnMask
                if pfn != 0 { sawPFN = true }
                let v = PageClassifier.classify(entry: e, pmdMapped: pmdKnown ? false : nil, flags: flags.map { $0[i] }) {
                    folioPages(pfn: pfn, cache: &blocks)
                }
                pages.classes[i] = v.pageClass
                pages.anon[i] = v.anon
                pages.folio[i] = Int32(v.folioPages ?? 0)
            }
        }
    }

    /// kpageflags of every present page's PFN, read in sorted runs; nil
    /// when PFNs are hidden or /proc/kpageflags is unreadable.
    private func kpageflagsFor(entries: [UInt64], needed: [(Int, Int)]) throws -> [UInt64]? {
        guard let kpageflags else { return nil }
        // Key: PFN in the high bits, page index in the low 20 (a chunk has
        // at most 16384 pages).
        var keys: [UInt64] = []
        for (i0, i1) in needed {
            for i in i0..<i1 where entries[i] & Pagemap.present != 0 {
                let pfn = entries[i] & Pagemap.pfnMask
                if pfn != 0 { keys.append(pfn << 20 | UInt64(i)) }
            }
        }
        guard !keys.isEmpty else { return nil }
        keys.sort()
        var flags = [UInt64](repeating: 0, count: entries.count)
        var k = 0
        while k < keys.count {
            let first = keys[k] >> 20
            var last = first
            var j = k
            while j + 1 < keys.count {
                let next = keys[j + 1] >> 20
                if next - last > 64 || next - first >= 65536 { break }
                last = next
                j += 1
            }
            let words = try Pagemap.readWords(fd: kpageflags, path: kpageflagsPath, index: first,
                                              count: Int(last - first + 1))
            for m in k...j {
                let pfn = keys[m] >> 20
                let idx = Int(keys[m] & 0xFFFFF)
                let w = Int(pfn - first)
                if w < words.count { flags[idx] = words[w] }
            }
            k = j + 1
        }
        return flags
    }

    /// The folio size of a compound page, from the 512-aligned block of
    /// kpageflags around it (read once per block and chunk).
    private func folioPages(pfn: UInt64, cache: inout [UInt64: [UInt64]]) -> Int {
        guard let kpageflags, pfn != 0 else { return 1 }
        let block = pfn / UInt64(PageGeometry.pagesPerPmd)
        if cache[block] == nil {
            cache[block] = (try? Pagemap.readWords(fd: kpageflags, path: kpageflagsPath,
                                                   index: block * UInt64(PageGeometry.pagesPerPmd),
                                                   count: PageGeometry.pagesPerPmd)) ?? []
        }
        let words = cache[block]!
        let offset = Int(pfn % UInt64(PageGeometry.pagesPerPmd))
        guard offset < words.count else { return 1 }
        return words.withUnsafeBufferPointer { PageClassifier.folioPages(block: $0, offset: offset) }
    }
}
