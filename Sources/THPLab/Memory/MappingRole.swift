/// The part a mapping plays in the retract experiment.
public enum MappingRole: String, Codable, CaseIterable, Sendable {
    /// MAP_SHARED, every page written.
    case shared
    /// MAP_PRIVATE, pages only read: no anon_vma, so retraction applies.
    case privateClean = "private-clean"
    /// MAP_PRIVATE with `cowPages` pages written: an anon_vma with
    /// copy-on-write pages, so retract_page_tables() skips it.
    case privateWritten = "private-written"
    /// MAP_SHARED at an address not congruent to the file offset modulo
    /// 2 MiB: no PMD can map it.
    case misaligned
    /// MAP_SHARED, pages read, then MADV_NOHUGEPAGE after the collapse
    /// (`--nohugepage`): since 6.12 a fault maps no PMD in such a VMA.
    case nohugepage
    /// MAP_SHARED, pages read, userfaultfd write-protect armed over it
    /// (`--uffd-wp`): retract_page_tables() skips such a VMA.
    case uffdWp = "uffd-wp"

    public var isShared: Bool { self == .shared || self == .misaligned || self == .nohugepage || self == .uffdWp }
}

/// How one process maps the object: one entry per mapping.
public struct MappingSpec: Codable, Equatable, Sendable {
    public var role: MappingRole
    /// Pages written in a private mapping (copy-on-write); 0 otherwise.
    public var cowPages: Int

    public init(role: MappingRole, cowPages: Int = 0) {
        self.role = role
        self.cowPages = cowPages
    }

    /// Bytes by which the misaligned mapping's address is shifted from the
    /// file offset's phase modulo 2 MiB: one page.
    public static let misalignment = 4096
}

/// Where a mapping landed.
public struct MappingPlacement: Codable, Equatable, Sendable {
    public var role: MappingRole
    public var start: UInt
    public var end: UInt
}

/// The outcome of one madvise call, for the report.
public struct AdviceOutcome: Codable, Equatable, Sendable {
    public var advice: String
    public var role: MappingRole
    public var pid: Int32
    public var start: UInt
    public var length: Int
    /// 0 on success, else the errno value.
    public var errno: Int32
    public var errnoName: String?
    /// MADV_COLLAPSE: calls that returned EAGAIN (transient) and were made
    /// again before this outcome; absent when none.
    public var eagainRetries: Int? = nil
    public var succeeded: Bool { errno == 0 }

    enum CodingKeys: String, CodingKey {
        case advice, role, pid, start, length, errno, errnoName = "errno_name", eagainRetries = "eagain_retries"
    }
}
