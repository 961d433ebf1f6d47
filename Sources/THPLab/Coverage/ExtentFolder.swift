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
        var total = ClassCounts()
        var extents: [ExtentCoverage] = []
        let page = UInt(pageSize)
        let end = start + UInt(classes.count) * page
        var i = 0
        while i < classes.count {
            let address = start + UInt(i) * page
            let extentEnd = min(end, (address & ~(extentSize - 1)) + extentSize)
            let count = Int((extentEnd - address) / page)
            var c = ClassCounts()
            var letters = withPages ? "" : nil
            for k in i..<(i + count) {
                let cls = classes[k]
                c[cls] += 1
                if cls != .none && cls != .swapped && anon[k] { c.anon += 1 }
                if cls == .mthp { c.mthpSizes[String(Int(folioPages[k]) * pageSize / 1024), default: 0] += 1 }
                if withPages { letters!.append(cls.letter) }
            }
            total += c
            if c.none < count {
                extents.append(ExtentCoverage(start: address, end: extentEnd, pages: c, pageClasses: letters))
            }
            i += count
        }
        return (total, extents)
    }
}
