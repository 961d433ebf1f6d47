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

    /// The same over a scanner's buffers.
    static func fold(start: UInt, classes: UnsafeBufferPointer<PageClass>, anon: UnsafeBufferPointer<Bool>,
                     folioPages: UnsafeBufferPointer<Int32>, withPages: Bool) -> (counts: ClassCounts, extents: [ExtentCoverage]) {
        var total = ClassCounts()
        var extents: [ExtentCoverage] = []
        let page = UInt(pageSize)
        let end = start + UInt(classes.count) * page
        var i = 0
        while i < classes.count {
            let address = start + UInt(i) * page
            let extentEnd = min(end, (address & ~(extentSize - 1)) + extentSize)
            let count = Int((extentEnd - address) / page)
            let c = counts(classes, anon, folioPages, i..<(i + count))
            total += c
            if c.none < count {
                let letters = withPages ? String(classes[i..<(i + count)].map(\.letter)) : nil
                extents.append(ExtentCoverage(start: address, end: extentEnd, pages: c, pageClasses: letters))
            }
            i += count
        }
        return (total, extents)
    }

    /// One extent's counts, taken run by run of pages of one class (an
    /// extent is mostly one run: ClassCounts' subscript per page costs too
    /// much on a path every snapshot takes).
    private static func counts(_ classes: UnsafeBufferPointer<PageClass>, _ anon: UnsafeBufferPointer<Bool>,
                               _ folioPages: UnsafeBufferPointer<Int32>, _ range: Range<Int>) -> ClassCounts {
        var c = ClassCounts()
        var k = range.lowerBound
        while k < range.upperBound {
            let cls = classes[k]
            var j = k + 1
            while j < range.upperBound && classes[j] == cls { j += 1 }
            c[cls] += j - k
            if cls != .none && cls != .swapped {
                for i in k..<j where anon[i] { c.anon += 1 }
            }
            if cls == .mthp {
                for i in k..<j { c.mthpSizes[String(Int(folioPages[i]) * pageSize / 1024), default: 0] += 1 }
            }
            k = j
        }
        return c
    }
}
