/// Folds classified pages into 2 MiB-aligned extents. Pure: the unit tests
/// give it synthetic pages, including ranges that start or end mid-extent.
public enum ExtentFolder {
    static let pageSize = PageGeometry.pageSize
    static let extentSize = UInt(PageGeometry.pmdSize)

    /// - Parameters:
    ///   - start: the address of the first page.
    ///   - classes, anon, folioPages: one entry per page.
    /// - Returns: the totals, and the extents holding any present or
    ///   swapped page (an all-`none` extent is only counted).
    public static func fold(start: UInt, classes: [PageClass], anon: [Bool], folioPages: [Int32],
                            withPages: Bool) -> (counts: ClassCounts, extents: [ExtentCoverage]) {
        classes.withUnsafeBufferPointer { c in
            anon.withUnsafeBufferPointer { a in
                folioPages.withUnsafeBufferPointer { f in fold(start: start, classes: c, anon: a, folioPages: f, withPages: withPages) }
            }
        }
    }

    /// What a scanner already knows of each extent of a chunk, by its
    /// ordinal in the chunk: mapped by one PMD (anonymous or not), so its
    /// pages were never written one by one, or to be counted page by page.
    enum ExtentMark: UInt8 {
        case perPage = 0, pmdFile, pmdAnon
    }

    /// The same over a scanner's buffers; `marks`, where given, has an
    /// entry for each extent the pages touch.
    static func fold(start: UInt, classes: UnsafeBufferPointer<PageClass>, anon: UnsafeBufferPointer<Bool>,
                     folioPages: UnsafeBufferPointer<Int32>, marks: UnsafeBufferPointer<ExtentMark>? = nil,
                     withPages: Bool) -> (counts: ClassCounts, extents: [ExtentCoverage]) {
        var total = ClassCounts()
        var extents: [ExtentCoverage] = []
        let page = UInt(pageSize)
        let end = start + UInt(classes.count) * page
        var i = 0, ordinal = 0
        while i < classes.count {
            let address = start + UInt(i) * page
            let extentEnd = min(end, (address & ~(extentSize - 1)) + extentSize)
            let count = Int((extentEnd - address) / page)
            let mark = marks?[ordinal] ?? .perPage
            var c = ClassCounts()
            if mark == .perPage {
                c = counts(classes, anon, folioPages, i..<(i + count))
            } else {
                c.pmd = count
                c.anon = mark == .pmdAnon ? count : 0
            }
            total += c
            if c.none < count {
                let letters = !withPages ? nil
                    : mark == .perPage ? String(classes[i..<(i + count)].map(\.letter))
                    : String(repeating: PageClass.pmd.letter, count: count)
                extents.append(ExtentCoverage(start: address, end: extentEnd, pages: c, pageClasses: letters))
            }
            i += count
            ordinal += 1
        }
        return (total, extents)
    }

    /// One extent's counts, taken run by run of pages of one class, eight
    /// pages a word (an extent is mostly one run: ClassCounts' subscript
    /// per page costs too much on a path every snapshot takes).
    private static func counts(_ classes: UnsafeBufferPointer<PageClass>, _ anon: UnsafeBufferPointer<Bool>,
                               _ folioPages: UnsafeBufferPointer<Int32>, _ range: Range<Int>) -> ClassCounts {
        var c = ClassCounts()
        let bytes = UnsafeRawBufferPointer(classes)
        var k = range.lowerBound
        while k < range.upperBound {
            let cls = classes[k]
            let j = runEnd(bytes, from: k, to: range.upperBound)
            c[cls] += j - k
            if cls != .none && cls != .swapped { c.anon += trueCount(anon, k..<j) }
            if cls == .mthp {
                for i in k..<j { c.mthpSizes[String(Int(folioPages[i]) * pageSize / 1024), default: 0] += 1 }
            }
            k = j
        }
        return c
    }

    /// The end of the run of bytes equal to the one at `k`, before `limit`.
    @inline(__always)
    private static func runEnd(_ bytes: UnsafeRawBufferPointer, from k: Int, to limit: Int) -> Int {
        let pattern = UInt64(bytes[k]) &* 0x0101_0101_0101_0101
        var j = k + 1
        while j + 8 <= limit && bytes.loadUnaligned(fromByteOffset: j, as: UInt64.self) == pattern { j += 8 }
        while j < limit && bytes[j] == bytes[k] { j += 1 }
        return j
    }

    /// How many of `range` are true: a Bool is the byte 0 or 1, so a word's
    /// set bits count eight of them at a time.
    @inline(__always)
    private static func trueCount(_ flags: UnsafeBufferPointer<Bool>, _ range: Range<Int>) -> Int {
        let bytes = UnsafeRawBufferPointer(flags)
        var n = 0, i = range.lowerBound
        while i + 8 <= range.upperBound {
            n += bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
            i += 8
        }
        while i < range.upperBound { if flags[i] { n += 1 }; i += 1 }
        return n
    }
}
