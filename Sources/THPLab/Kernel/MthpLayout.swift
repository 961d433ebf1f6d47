/// What the fault path gives one VMA when its pages are faulted in order,
/// and why each folio size can or cannot appear there. Pure: the unit
/// tests give it addresses and sizes, the experiment compares it with what
/// pagemap and kpageflags saw.
///
/// The kernel's rule (mm/memory.c alloc_anon_folio, mm/shmem.c
/// shmem_suitable_orders; thp_vma_suitable_order): at a faulting address
/// it tries the allowed sizes largest first; a size fits only if its
/// naturally aligned block holding the address lies inside the VMA, has no
/// page yet, and (file and shmem) the address is congruent to the file
/// offset modulo the size. Faulting in order, a block is free only where it
/// starts at the faulting address.
public enum MthpLayout {
    public static let pageKB = PageGeometry.pageKB

    /// Pages by folio size in kB (the base page's size for small pages).
    /// - Parameter fileOffset: the file offset mapped at `start`; nil for
    ///   anonymous memory.
    public static func expected(start: UInt, length: Int, fileOffset: UInt?, allowedKB: [Int]) -> [Int: Int] {
        var out: [Int: Int] = [:]
        let end = start + UInt(length)
        let sizes = allowedKB.sorted(by: >)
        var a = start
        while a < end {
            let kb = sizes.first { fits(sizeKB: $0, at: a, start: start, end: end, fileOffset: fileOffset) } ?? pageKB
            out[kb, default: 0] += kb / pageKB
            a += UInt(kb * 1024)
        }
        return out
    }

    static func fits(sizeKB: Int, at a: UInt, start: UInt, end: UInt, fileOffset: UInt?) -> Bool {
        let s = UInt(sizeKB * 1024)
        guard a % s == 0, a + s <= end else { return false }
        if let off = fileOffset { return (a - start + off) % s == 0 }
        return true
    }

    /// Why a size cannot appear in a VMA of this shape, or nil when it can
    /// (a larger size may still take its place).
    public static func excluded(sizeKB: Int, start: UInt, length: Int, fileOffset: UInt?) -> String? {
        let s = UInt(sizeKB * 1024), end = start + UInt(length)
        if s > UInt(length) { return "larger than the VMA (\(FolioSizes.kB(length / 1024)))" }
        let first = (start + s - 1) / s * s
        if first + s > end { return "no \(FolioSizes.kB(sizeKB))-aligned block inside the VMA" }
        if let off = fileOffset, (first - start + off) % s != 0 {
            return "address not congruent to the file offset modulo \(FolioSizes.kB(sizeKB))"
        }
        return nil
    }

    /// Pages by folio size from the classes pagemap and kpageflags gave:
    /// PMD-sized folios (PMD- or PTE-mapped) under the PMD size, mTHP under
    /// their own, small pages under the base page.
    public static func seen(_ c: ClassCounts) -> [Int: Int] {
        var out = c.mthpBySize
        if c.small > 0 { out[pageKB] = c.small }
        if c.pmd + c.pteThp > 0 { out[PageGeometry.pmdKB] = c.pmd + c.pteThp }
        return out
    }
}
