import Foundation
import Testing
@testable import THPLab

@Suite struct PageClassifierTests {
    let present = Pagemap.present
    let file = Pagemap.fileOrSharedAnon
    let head = Pagemap.KPF.compoundHead
    let tail = Pagemap.KPF.compoundTail
    let thp = Pagemap.KPF.thp
    let anonFlag = Pagemap.KPF.anon

    @Test func everyClassFromSyntheticEntries() {
        func c(_ e: UInt64, _ pmd: Bool?, _ f: UInt64?, folio: Int = 1) -> PageClassifier.Verdict {
            PageClassifier.classify(entry: e, pmdMapped: pmd, flags: f) { folio }
        }
        #expect(c(0, false, nil).pageClass == .none)
        #expect(c(Pagemap.swapped | 0x1234, false, nil).pageClass == .swapped)
        #expect(c(present | file | 7, false, 0).pageClass == .small)
        #expect(c(present | file | 7, true, head | thp).pageClass == .pmd)
        #expect(c(present | 7, false, tail | thp | anonFlag, folio: 512) == .init(pageClass: .pteThp, anon: true, folioPages: 512))
        #expect(c(present | file | 7, false, tail | thp, folio: 16) == .init(pageClass: .mthp, anon: false, folioPages: 16))
        // Without PAGEMAP_SCAN a PMD-sized folio stays pte-thp until smaps decides.
        #expect(c(present | file | 7, nil, head | thp, folio: 512).pageClass == .pteThp)
        // Hidden PFNs: present pages count as small; anon from pagemap bit 61.
        #expect(c(present, false, nil) == .init(pageClass: .small, anon: true, folioPages: nil))
        #expect(c(present | file, false, nil).anon == false)
    }

    func block(_ build: (inout [UInt64]) -> Void) -> [UInt64] {
        var b = [UInt64](repeating: 0, count: 512)
        build(&b)
        return b
    }

    @Test func folioSizesFromABlockOfFlags() {
        let pmdFolio = block { b in b[0] = head | thp; for i in 1..<512 { b[i] = tail | thp } }
        let mthp = block { b in b[32] = head | thp; for i in 33..<48 { b[i] = tail | thp }; b[48] = head | thp; b[49] = tail | thp }
        let orphanTails = block { b in for i in 0..<512 { b[i] = tail | thp } }
        pmdFolio.withUnsafeBufferPointer {
            #expect(PageClassifier.folioPages(block: $0, offset: 0) == 512)
            #expect(PageClassifier.folioPages(block: $0, offset: 511) == 512)
        }
        mthp.withUnsafeBufferPointer {
            #expect(PageClassifier.folioPages(block: $0, offset: 40) == 16)
            #expect(PageClassifier.folioPages(block: $0, offset: 32) == 16)
            #expect(PageClassifier.folioPages(block: $0, offset: 49) == 2)
            #expect(PageClassifier.folioPages(block: $0, offset: 100) == 1)
        }
        orphanTails.withUnsafeBufferPointer { #expect(PageClassifier.folioPages(block: $0, offset: 7) == 512) }
    }
}

/// Real pagemap and kpageflags words of five 2 MiB mappings, captured on
/// 6.18: a PMD-mapped memfd extent, the same folio PTE-mapped through a
/// misaligned mapping, small shmem pages, an anonymous THP, an untouched range.
@Suite struct ClassifierFixtureTests {
    struct Mapping {
        var entries: [UInt64] = []
        var flags: [UInt64] = []
        var block: [UInt64] = []
        var blockOffset = 0
    }

    static func load() throws -> [String: Mapping] {
        var out: [String: Mapping] = [:]
        for line in try Fixture.text("pagemap-classes-6.18.txt").split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ")
            if f[0] == "block" {
                out[String(f[1]), default: Mapping()].blockOffset = Int(f[2])!
                out[String(f[1]), default: Mapping()].block = f[3...].map { UInt64($0, radix: 16)! }
            } else {
                out[String(f[0]), default: Mapping()].entries.append(UInt64(f[2], radix: 16)!)
                out[String(f[0]), default: Mapping()].flags.append(UInt64(f[3], radix: 16)!)
            }
        }
        return out
    }

    func classify(_ m: Mapping, pmdMapped: Bool?) -> ClassCounts {
        var c = ClassCounts()
        let firstPFN = m.entries[0] & Pagemap.pfnMask
        for (i, e) in m.entries.enumerated() {
            let v = PageClassifier.classify(entry: e, pmdMapped: pmdMapped, flags: m.flags[i]) {
                // The folio's pages are consecutive PFNs within the captured block.
                let offset = m.blockOffset + Int((e & Pagemap.pfnMask) - firstPFN)
                return m.block.withUnsafeBufferPointer { PageClassifier.folioPages(block: $0, offset: offset) }
            }
            c[v.pageClass] += 1
            if v.anon && v.pageClass != .none { c.anon += 1 }
        }
        return c
    }

    @Test func eachMappingGetsItsClass() throws {
        let m = try Self.load()
        #expect(m.count == 5)
        // PAGEMAP_SCAN marks the PMD-mapped ones; pagemap alone cannot.
        #expect(classify(m["pmd"]!, pmdMapped: true).pmd == 512)
        #expect(classify(m["pmd"]!, pmdMapped: nil).pteThp == 512)
        #expect(classify(m["ptethp"]!, pmdMapped: false).pteThp == 512)
        let small = classify(m["small"]!, pmdMapped: false)
        #expect(small.small == 512)
        #expect(small.anon == 0)
        let anon = classify(m["anonthp"]!, pmdMapped: true)
        #expect(anon.pmd == 512)
        #expect(anon.anon == 512)
        #expect(classify(m["none"]!, pmdMapped: false).none == 512)
    }
}

@Suite struct ExtentFolderTests {
    @Test func extentsFollowTwoMiBAlignmentAcrossVmaEdges() {
        // A VMA from one page past an extent boundary to one page past the
        // next-but-one: a 511-page, a 512-page and a 1-page extent.
        let start: UInt = 0x7f00_0000_1000
        var classes = [PageClass](repeating: .small, count: 1024)
        var anon = [Bool](repeating: false, count: 1024)
        for i in 0..<511 { classes[i] = .none }
        for i in 511..<1023 { classes[i] = .pteThp; anon[i] = i % 2 == 0 }
        classes[1023] = .mthp
        let folio = [Int32](repeating: 16, count: 1024)
        let (counts, extents) = ExtentFolder.fold(start: start, classes: classes, anon: anon, folioPages: folio, withPages: true)
        #expect(counts.none == 511)
        #expect(counts.pteThp == 512)
        #expect(counts.mthp == 1)
        #expect(counts.mthpSizes == ["64": 1])
        #expect(counts.total == 1024)
        // The all-none first extent is counted but not listed.
        #expect(extents.map(\.start) == [0x7f00_0020_0000, 0x7f00_0040_0000])
        #expect(extents[0].end == 0x7f00_0040_0000)
        #expect(extents[0].pages.pteThp == 512)
        #expect(extents[0].pages.anon == 256)
        #expect(extents[1].end == 0x7f00_0040_1000)
        #expect(extents[1].pageClasses == "m")
        #expect(extents[0].pageClasses == String(repeating: "T", count: 512))
    }

    @Test func mixedExtentIsCountedNotCollapsedToOneWord() {
        let classes: [PageClass] = Array(repeating: .pmd, count: 256) + Array(repeating: .small, count: 200) + Array(repeating: .swapped, count: 56)
        let (_, extents) = ExtentFolder.fold(start: 0x200000, classes: classes, anon: Array(repeating: true, count: 512),
                                             folioPages: Array(repeating: 0, count: 512), withPages: false)
        #expect(extents.count == 1)
        #expect(extents[0].pages.pmd == 256 && extents[0].pages.small == 200 && extents[0].pages.swapped == 56)
        #expect(extents[0].pages.anon == 456)
        #expect(extents[0].pageClasses == nil)
    }

    /// Runs and anon bits are counted eight pages a word: every run length
    /// and offset, against a count page by page.
    @Test func wordAtATimeCountsMatchPageByPage() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        var classes: [PageClass] = [], anon: [Bool] = []
        while classes.count < 4 * 512 + 77 {
            let cls = PageClass.allCases[next(PageClass.allCases.count)]
            for _ in 0..<(1 + next(19)) { classes.append(cls); anon.append(next(3) == 0) }
        }
        let start: UInt = 0x7f00_0000_0000 + 37 * 4096
        let (total, extents) = ExtentFolder.fold(start: start, classes: classes, anon: anon,
                                                 folioPages: Array(repeating: 4, count: classes.count), withPages: true)
        var expected = ClassCounts()
        for (i, c) in classes.enumerated() {
            expected[c] += 1
            if c != .none && c != .swapped && anon[i] { expected.anon += 1 }
            if c == .mthp { expected.mthpSizes["16", default: 0] += 1 }
        }
        #expect(total == expected)
        #expect(extents.reduce(ClassCounts()) { $0 + $1.pages }.resident == expected.resident)
        for e in extents {
            let i0 = Int((e.start - start) / 4096), i1 = Int((e.end - start) / 4096)
            #expect(e.pageClasses == String(classes[i0..<i1].map(\.letter)))
            #expect(e.pages.anon == (i0..<i1).filter { classes[$0] != .none && classes[$0] != .swapped && anon[$0] }.count)
        }
    }

    /// Extents a scanner marks as mapped by one PMD are counted whole, from
    /// the mark alone: their pages are never written.
    @Test func extentsMarkedPMDAreCountedWhole() {
        var classes = [PageClass](repeating: .none, count: 3 * 512)
        for i in 0..<512 { classes[i] = .small }
        let anon = [Bool](repeating: false, count: classes.count)
        let marks: [ExtentFolder.ExtentMark] = [.perPage, .pmdAnon, .pmdFile]
        let (total, extents) = classes.withUnsafeBufferPointer { c in
            anon.withUnsafeBufferPointer { a in
                [Int32](repeating: 0, count: classes.count).withUnsafeBufferPointer { f in
                    marks.withUnsafeBufferPointer { m in
                        ExtentFolder.fold(start: 0x4000_0000, classes: c, anon: a, folioPages: f, marks: m, withPages: true)
                    }
                }
            }
        }
        #expect(total.small == 512 && total.pmd == 1024 && total.anon == 512 && total.none == 0)
        #expect(extents.count == 3)
        #expect(extents[1].pages.pmd == 512 && extents[1].pages.anon == 512)
        #expect(extents[2].pages.pmd == 512 && extents[2].pages.anon == 0)
        #expect(extents[2].pageClasses == String(repeating: "P", count: 512))
    }

    @Test func candidatesResolvedAgainstSmaps() {
        var o = VmaScanner.Outcome()
        for k in 0..<3 {
            var c = ClassCounts()
            c.pteThp = 512
            o.extents.append(ExtentCoverage(start: UInt(k) << 21, end: UInt(k + 1) << 21, pages: c, pageClasses: nil))
            o.candidates.append(k)
            o.counts += c
        }
        #expect(SnapshotTaker.resolveCandidates(&o, smapsPmdKB: 4096) == 2)
        #expect(o.counts.pmd == 1024 && o.counts.pteThp == 512)
        #expect(o.extents[2].pages.pteThp == 512)
    }
}
