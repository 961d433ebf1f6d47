/// MADV_COLLAPSE of a memfd (shmem) against the PMD size's per-size policy
/// `hugepages-<PMD>kB/shmem_enabled`, as measured with the same program:
/// on 6.12 the call ignores it, as it ignores the global `shmem_enabled`;
/// on 6.18 that policy governs the call: `never`, or `advise` on a VMA
/// without MADV_HUGEPAGE, gives EINVAL, while `inherit` follows the global
/// setting, which the call overrides. The change lies between the two;
/// 6.18 is the first kernel measured to have it. Anonymous memory's
/// `hugepages-<PMD>kB/enabled` is ignored on both.
public enum MemfdCollapseRule {
    public static let since = KernelVersion(6, 18)

    /// Why MADV_COLLAPSE of a memfd VMA is refused with EINVAL, or nil.
    /// - Parameter pmdPolicy: `hugepages-<PMD>kB/shmem_enabled` as set
    ///   (nil on a kernel without per-size shmem policies).
    public static func refusal(kernel: KernelVersion, pmdPolicy: SizeShmemPolicy?, advised: Bool) -> String? {
        guard kernel >= since, let p = pmdPolicy else { return nil }
        let knob = Knob.sizeShmemEnabled(kB: PageGeometry.pmdKB).rawValue
        switch p {
        case .never: return "since 6.18 (6.12 ignored it) MADV_COLLAPSE of a memfd obeys \(knob), which is never"
        case .advise where !advised:
            return "since 6.18 (6.12 ignored it) MADV_COLLAPSE of a memfd obeys \(knob), which is advise, and the VMA has no MADV_HUGEPAGE"
        default: return nil
        }
    }
}
