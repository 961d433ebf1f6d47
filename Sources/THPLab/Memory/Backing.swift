/// What the experiment's object is made of.
public enum Backing: String, Codable, CaseIterable, Sendable {
    /// memfd_create: shmem on the kernel's internal mount, governed by
    /// `shmem_enabled`.
    case memfd
    /// A file on a tmpfs that thplab mounts itself with a chosen `huge=`.
    case tmpfs
    /// A file in /dev/shm, governed by that mount's `huge=` option.
    case shm
    /// A regular file on a disk filesystem (`--dir`): collapsible only with
    /// CONFIG_READ_ONLY_THP_FOR_FS, and then only for read-only executable
    /// mappings of a file nobody has open for writing.
    case file
    /// Private anonymous memory (no object): for `run collapse`, the
    /// baseline against which file and shmem collapse are compared.
    case anon

    /// Whether the object lives in shmem (tmpfs or the internal mount).
    public var isShmem: Bool { self != .file && self != .anon }
}

/// Values of the tmpfs `huge=` mount option.
public enum TmpfsHuge: String, Codable, CaseIterable, Sendable {
    case never, always, within_size, advise
}
