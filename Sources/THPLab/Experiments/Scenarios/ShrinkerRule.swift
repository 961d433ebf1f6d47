/// The underused-THP shrinker's rule (mm/huge_memory.c thp_underused(),
/// 6.12+), as measured on 6.12 and 6.18: under memory pressure a THP on
/// the deferred-split queue (every anonymous THP a fault or a collapse
/// made) is split when more than `max_ptes_none` of its subpages hold only
/// zeros; the zero-filled subpages are then mapped to the shared zero page
/// and freed. `max_ptes_none` = 511 (the default) and `shrink_underused` = 0
/// turn it off. `use_zero_page` does not change what the split maps (it
/// governs read faults' huge zero page).
public enum ShrinkerRule {
    /// Whether a collapsed anonymous THP with `zeroFilled` subpages of
    /// zeros is split, and why, in one line. `shrinkUnderused` is nil on a
    /// kernel without the knob (and so without the shrinker).
    public static func split(zeroFilled: Int, maxPtesNone: Int, shrinkUnderused: String?) -> (Bool, String) {
        let last = PageGeometry.pagesPerPmd - 1
        guard let knob = shrinkUnderused else {
            return (false, "this kernel has no underused-THP shrinker (shrink_underused came with 6.12): the zeros stay resident until the memory is freed")
        }
        if knob == "0" { return (false, "shrink_underused=0: the shrinker leaves underused THPs whole") }
        if maxPtesNone >= last {
            return (false, "max_ptes_none=\(last) (the default) turns the shrinker off: thp_underused() calls no THP underused; lower it to let the shrinker split THPs with more than max_ptes_none zero-filled subpages")
        }
        if zeroFilled > maxPtesNone {
            return (true, "split: \(zeroFilled) zero-filled subpages exceed max_ptes_none=\(maxPtesNone); they go to the zero page")
        }
        return (false, "kept whole: \(zeroFilled) zero-filled subpages, not above max_ptes_none=\(maxPtesNone)")
    }

    /// Why khugepaged's own THPs are never split by the shrinker under the
    /// same max_ptes_none: it collapses only with at most max_ptes_none
    /// empty PTEs, so at most that many zero-filled subpages.
    public static let khugepagedNote = "a THP khugepaged makes under max_ptes_none=N has at most N zero-filled subpages, and the shrinker splits only above N: it takes back what MADV_COLLAPSE (which ignores max_ptes_none), faults under enabled=always, or a higher max_ptes_none at collapse time made"
}
