/// Decides the class of one page from what pagemap, kpageflags and
/// PAGEMAP_SCAN say of it. Pure: the unit tests feed it synthetic entries.
public enum PageClassifier {


    public struct Verdict: Equatable, Sendable {
        public var pageClass: PageClass
        public var anon: Bool
        /// Size of the page's folio in pages, for large folios.
        public var folioPages: Int?
    }

    /// - Parameters:
    ///   - entry: the page's /proc/PID/pagemap entry.
    ///   - pmdMapped: from PAGEMAP_SCAN's PAGE_IS_HUGE; nil where unknown
    ///     (no PAGEMAP_SCAN): a PMD-sized folio is then `pte_thp` until the
    ///     VMA-level check against smaps says otherwise.
    ///   - flags: /proc/kpageflags of its PFN; nil when PFNs are hidden.
    ///   - folioPages: the size of its folio, asked for compound pages only.
    public static func classify(entry: UInt64, pmdMapped: Bool?, flags: UInt64?, folioPages: () -> Int) -> Verdict {
        guard entry & Pagemap.present != 0 else {
            return Verdict(pageClass: entry & Pagemap.swapped != 0 ? .swapped : .none, anon: false, folioPages: nil)
        }
        let anon = flags.map { $0 & Pagemap.KPF.anon != 0 } ?? (entry & Pagemap.fileOrSharedAnon == 0)
        if pmdMapped == true { return Verdict(pageClass: .pmd, anon: anon, folioPages: PageGeometry.pagesPerPmd) }
        guard let flags else { return Verdict(pageClass: .small, anon: anon, folioPages: nil) }
        guard flags & (Pagemap.KPF.compoundHead | Pagemap.KPF.compoundTail) != 0 else {
            return Verdict(pageClass: .small, anon: anon, folioPages: nil)
        }
        let size = folioPages()
        return Verdict(pageClass: size >= PageGeometry.pagesPerPmd ? .pteThp : .mthp, anon: anon, folioPages: size)
    }

    /// The size in pages of the folio holding the page at `offset` of a
    /// 512-aligned block of kpageflags words. Folios are naturally aligned,
    /// so one no larger than a PMD lies inside the block; a head outside
    /// the block means a folio at least PMD-sized.
    public static func folioPages(block: UnsafeBufferPointer<UInt64>, offset: Int) -> Int {
        let head = Pagemap.KPF.compoundHead, tail = Pagemap.KPF.compoundTail
        var i = offset
        while i >= 0 && block[i] & head == 0 {
            guard block[i] & tail != 0 else { return 1 }
            i -= 1
        }
        if i < 0 { return PageGeometry.pagesPerPmd }
        var j = i + 1
        while j < block.count && block[j] & tail != 0 && block[j] & head == 0 { j += 1 }
        return j - i
    }
}
