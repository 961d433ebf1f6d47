import SystemPackage

/// Classifies every page of a process's VMAs, one chunk of at most 64 MiB
/// at a time, so memory stays small whatever the mapping size: PAGEMAP_SCAN
/// (where the kernel has it) finds the present, swapped and PMD-mapped
/// ranges; pagemap entries are read only for present pages not mapped by a
/// PMD, and kpageflags only for their PFNs: run by run where PFNs follow
/// each other page after page, in sorted windows where they are scattered.
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

    /// Working memory for one chunk, reused chunk after chunk.
    private let pages = ChunkPages(capacity: chunkPages)

    private func scanChunk(start: UInt, end: UInt, regions: [PagemapScan.Region]?, into out: inout Outcome) throws {
        let n = Int((end - start) / UInt(Self.pageSize))
        let extents = (Self.extentOffset(start) + n + PageGeometry.pagesPerPmd - 1) / PageGeometry.pagesPerPmd
        pages.reset(n, extents: extents)
        // Ranges [i0, i1) of pages whose pagemap entries are needed.
        let needed = try regions.map { try mark($0, start: start) } ?? [(0, n)]
        if !needed.isEmpty {
            try classify(needed, start: start, pmdKnown: regions != nil)
        }
        let folded = ExtentFolder.fold(start: start, classes: UnsafeBufferPointer(pages.slice(pages.classes, 0, n)),
                                       anon: UnsafeBufferPointer(pages.slice(pages.anon, 0, n)),
                                       folioPages: UnsafeBufferPointer(pages.slice(pages.folio, 0, n)),
                                       marks: UnsafeBufferPointer(pages.slice(pages.marks, 0, extents)), withPages: withPages)
        out.counts += folded.counts
        for e in folded.extents {
            if !useScan && e.pages.pteThp == PageGeometry.pagesPerPmd { out.candidates.append(out.extents.count) }
            out.extents.append(e)
        }
    }

    /// How many pages the extent holding `start` has before it.
    static func extentOffset(_ start: UInt) -> Int {
        Int((start / UInt(pageSize)) % UInt(PageGeometry.pagesPerPmd))
    }

    /// PAGEMAP_SCAN's regions: PMD-mapped and swapped pages are known from
    /// them; the present ones not PMD-mapped are left to classify.
    private func mark(_ regions: [PagemapScan.Region], start: UInt) throws -> [(Int, Int)] {
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
                    let offset = Self.extentOffset(start) + i
                    let extentEnd = min(i1, i + pmdPages - offset % pmdPages)
                    var e: UInt64 = 0
                    _ = try withUnsafeMutablePointer(to: &e) {
                        try Pagemap.read(fd: pagemap, path: pagemapPath, index: UInt64(start / page) + UInt64(i),
                                         into: UnsafeMutableBufferPointer(start: $0, count: 1))
                    }
                    let isAnon = e & Pagemap.present != 0 && e & Pagemap.fileOrSharedAnon == 0
                    if e & Pagemap.pfnMask != 0 { sawPFN = true }
                    sawPresent = true
                    if extentEnd - i == pmdPages {
                        // A whole extent: counted as one, its pages left unwritten.
                        pages.marks[offset / pmdPages] = isAnon ? .pmdAnon : .pmdFile
                    } else {
                        pages.slice(pages.classes, i, extentEnd).update(repeating: .pmd)
                        pages.slice(pages.anon, i, extentEnd).update(repeating: isAnon)
                        pages.slice(pages.folio, i, extentEnd).update(repeating: Int32(pmdPages))
                    }
                    i = extentEnd
                }
            } else if r.isPresent {
                needed.append((i0, i1))
            } else if r.isSwapped {
                pages.slice(pages.classes, i0, i1).update(repeating: .swapped)
            }
        }
        return needed
    }

    /// Pagemap entries, then kpageflags, for the pages in `needed`.
    private func classify(_ needed: [(Int, Int)], start: UInt, pmdKnown: Bool) throws {
        let page = UInt(Self.pageSize)
        for (i0, i1) in needed {
            let into = pages.slice(pages.entries, i0, i1)
            into.update(repeating: 0)
            _ = try Pagemap.read(fd: pagemap, path: pagemapPath, index: UInt64(start / page) + UInt64(i0), into: into)
        }
        let haveFlags = try readKpageflags(needed)
        var blocks: [UInt64: [UInt64]] = [:]
        let entries = pages.entries, flags = pages.flags, classes = pages.classes, anon = pages.anon, folio = pages.folio
        // Or-ed over the pages, so the loop touches no property of self.
        var anyEntry: UInt64 = 0, anyPFN: UInt64 = 0
        for (i0, i1) in needed {
            for i in i0..<i1 {
                let e = entries[i]
                anyEntry |= e
                let pfn = e & Pagemap.pfnMask
                anyPFN |= pfn
                let v = PageClassifier.classify(entry: e, pmdMapped: pmdKnown ? false : nil, flags: haveFlags ? flags[i] : nil) {
                    folioPages(pfn: pfn, cache: &blocks)
                }
                classes[i] = v.pageClass
                anon[i] = v.anon
                folio[i] = Int32(v.folioPages ?? 0)
            }
        }
        if anyEntry & Pagemap.present != 0 { sawPresent = true }
        if anyPFN != 0 { sawPFN = true }
    }

    /// kpageflags of every present page's PFN into `pages.flags`; false
    /// when PFNs are hidden or /proc/kpageflags is unreadable. PFNs that
    /// follow each other page after page (the common case) are read run by
    /// run straight into place; scattered ones are sorted and read in
    /// coalesced windows.
    private func readKpageflags(_ needed: [(Int, Int)]) throws -> Bool {
        guard let kpageflags else { return false }
        let entries = pages.entries
        // (first page index, first PFN, pages) of each run of PFNs that
        // follow each other page after page.
        var runs: [(index: Int, pfn: UInt64, count: Int)] = []
        var withPFN = 0
        // The run being extended: it ends at page `next` with PFN `nextPFN`.
        var first = 0, firstPFN: UInt64 = 0, next = -1, nextPFN: UInt64 = 0
        for (i0, i1) in needed {
            pages.slice(pages.flags, i0, i1).update(repeating: 0)
            for i in i0..<i1 where entries[i] & Pagemap.present != 0 {
                let pfn = entries[i] & Pagemap.pfnMask
                guard pfn != 0 else { continue }
                withPFN += 1
                if i != next || pfn != nextPFN {
                    if next > first { runs.append((first, firstPFN, next - first)) }
                    first = i
                    firstPFN = pfn
                }
                next = i + 1
                nextPFN = pfn + 1
            }
        }
        if next > first { runs.append((first, firstPFN, next - first)) }
        guard withPFN > 0 else { return false }
        // Runs of 8 pages or more on average: one read per run.
        if runs.count * 8 <= withPFN {
            for r in runs {
                _ = try Pagemap.read(fd: kpageflags, path: kpageflagsPath, index: r.pfn, into: pages.slice(pages.flags, r.index, r.index + r.count))
            }
            return true
        }
        try readScattered(needed)
        return true
    }

    /// kpageflags of scattered PFNs: sorted, read in windows that span gaps
    /// of up to 64 PFNs, each word put back at its page.
    private func readScattered(_ needed: [(Int, Int)]) throws {
        guard let kpageflags else { return }
        let entries = pages.entries, flags = pages.flags
        // Key: PFN in the high bits, page index in the low 20 (a chunk has
        // at most 16384 pages).
        var keys: [UInt64] = []
        for (i0, i1) in needed {
            for i in i0..<i1 where entries[i] & Pagemap.present != 0 {
                let pfn = entries[i] & Pagemap.pfnMask
                if pfn != 0 { keys.append(pfn << 20 | UInt64(i)) }
            }
        }
        keys.sort()
        let window = pages.readWindow()
        var k = 0
        while k < keys.count {
            let first = keys[k] >> 20
            var last = first
            var j = k
            while j + 1 < keys.count {
                let next = keys[j + 1] >> 20
                if next - last > 64 || next - first >= UInt64(ChunkPages.windowWords) { break }
                last = next
                j += 1
            }
            let got = try Pagemap.read(fd: kpageflags, path: kpageflagsPath, index: first,
                                       into: UnsafeMutableBufferPointer(rebasing: window[0..<Int(last - first + 1)]))
            for m in k...j {
                let w = Int((keys[m] >> 20) - first)
                if w < got { flags[Int(keys[m] & 0xFFFFF)] = window[w] }
            }
            k = j + 1
        }
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
