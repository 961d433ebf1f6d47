/// What a tmpfs mount's `huge=` gives a file's folios, as measured on 6.1,
/// 6.12 and 6.18 (a C program, then `run mthp --memory tmpfs`). Per-size
/// policies do not govern a tmpfs mount.
/// - Faults: a PMD-sized folio where its aligned block fits the VMA (and,
///   under within_size, the file), else base pages, on 6.12 and 6.18. On
///   6.1 the VMA did not matter: `always`, and `within_size` or `advise`
///   on a VMA with MADV_HUGEPAGE, gave every fault a PMD-sized folio (a
///   1 MiB file: one 2M folio, half mapped; within_size falls through to
///   advise in 6.1's shmem_is_huge()); `within_size` without it only where
///   the file covers the whole 2 MiB block.
/// - write(2) from offset 0: `always` makes one PMD-sized folio whatever the
///   write's size (all three); `within_size` a folio of the write's size on
///   6.18, base pages on 6.12 and 6.1; `advise` and `never` base pages.
///   6.18 is the first kernel measured with write-sized folios; the change
///   lies after 6.12.
enum TmpfsRule {
    static let faultFitsVmaSince = KernelVersion(6, 12)
    static let writeSizedSince = KernelVersion(6, 18)

    /// Pages by folio size a fault-in of the VMA gives, and the rule.
    static func fault(huge: TmpfsHuge, kernel: KernelVersion, start: UInt, length: Int, advised: Bool,
                      allowedKB: [Int]) -> (expected: [Int: Int], rule: String) {
        let pages = length / PageGeometry.pageSize
        if kernel < faultFitsVmaSince && (huge == .always || (advised && (huge == .within_size || huge == .advise))) {
            let why = huge == .always ? "huge=always" : "huge=\(huge.rawValue) and MADV_HUGEPAGE"
            return ([PageGeometry.pmdKB: pages], "before 6.12 (measured on 6.1) a tmpfs with \(why) gives every fault a \(FolioSizes.kB(PageGeometry.pmdKB)) folio, whether or not it fits the VMA")
        }
        let expected = MthpLayout.expected(start: start, length: length, fileOffset: 0, allowedKB: allowedKB)
        let when = huge == .advise ? " with MADV_HUGEPAGE" : huge == .never ? " never" : ""
        return (expected, "a tmpfs mounted huge=\(huge.rawValue) gives a fault a \(FolioSizes.kB(PageGeometry.pmdKB)) folio\(when) where its aligned block fits the VMA\(huge == .within_size ? " and the file" : ""), else base pages: per-size policies do not govern it")
    }

    /// Pages by folio size a write(2) of `sizeKB` at offset 0 of an empty
    /// file leaves in the page cache, and the rule.
    static func write(huge: TmpfsHuge, kernel: KernelVersion, sizeKB: Int) -> (expected: [Int: Int], rule: String) {
        let pages = sizeKB / PageGeometry.pageKB
        switch huge {
        case .always:
            return ([PageGeometry.pmdKB: pages], "a write to a tmpfs mounted huge=always makes a \(FolioSizes.kB(PageGeometry.pmdKB)) folio, whatever the write's size")
        case .within_size where kernel >= writeSizedSince && sizeKB <= PageGeometry.pmdKB && sizeKB & (sizeKB - 1) == 0:
            return ([sizeKB: pages], "since 6.18 (6.12: base pages) a write to a tmpfs mounted huge=within_size makes a folio of the write's size")
        case .within_size:
            let when = kernel >= writeSizedSince ? "" : "before 6.18 (measured on 6.12 and 6.1) "
            return ([PageGeometry.pageKB: pages], "\(when)a write of \(FolioSizes.kB(sizeKB)) to a tmpfs mounted huge=within_size makes base pages (a folio cannot exceed the write)")
        case .advise, .never:
            return ([PageGeometry.pageKB: pages], "a write to a tmpfs mounted huge=\(huge.rawValue) makes base pages" + (huge == .advise ? " (advise applies to faults with MADV_HUGEPAGE)" : ""))
        }
    }
}
