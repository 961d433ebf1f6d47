/// The values of the THP policy files the expectation model reads, as the
/// kernel spells them (a value thplab does not know reads as nil).

/// The shmem huge setting that governs an object: a tmpfs mount's `huge=`,
/// or `shmem_enabled`, whose `deny` and `force` override every mount.
public enum ShmemHuge: String, Codable, CaseIterable, Sendable {
    case never, always, within_size, advise, deny, force
}

/// THP for anonymous memory: `enabled`, or `hugepages-<N>kB/enabled` with
/// `inherit` resolved.
public enum AnonEnabled: String, Codable, CaseIterable, Sendable {
    case always, madvise, never

    /// What a per-size file holds to take the global value.
    public static let inherit = "inherit"
}

/// One size's shmem policy, `hugepages-<N>kB/shmem_enabled`.
public enum SizeShmemPolicy: String, Codable, CaseIterable, Sendable {
    case always, within_size, advise, never, inherit
}
