/// The kernel-version rules of thplab's model: what changed in which
/// release, and the saved real runs that showed it on a kernel inside the
/// range and, where one of the measured kernels (6.1, 6.12, 6.18) lies
/// outside it, on that one too. The expectation model asks these rules,
/// never a bare version number; a unit test re-reads every piece of
/// evidence and fails when a rule lacks it.
public struct VersionRule: Sendable {
    /// What a behaviour row showed, as a test on its observed text.
    public enum Outcome: Sendable, Equatable {
        case equals(String)
        case differs(String)
        /// The row exists (a knob or file the kernel has).
        case present
        /// The row is missing (the kernel lacks it).
        case absent

        public func holds(_ observed: String?) -> Bool {
            switch self {
            case .equals(let s): return observed == s
            case .differs(let s): return observed != nil && observed != s
            case .present: return observed != nil
            case .absent: return observed == nil
            }
        }
    }

    /// One row of a saved battery that shows the rule: its entry's label
    /// and its subject, with what it shows inside the range and outside.
    public struct Evidence: Sendable {
        public var entry: String
        public var subject: String
        public var inside: Outcome
        public var outside: Outcome
        /// The saved batteries (Tests/THPLabTests/Fixtures) that show it.
        public var runs: [String]
    }

    public var id: String
    /// The first release the rule holds on.
    public var since: KernelVersion
    public var text: String
    public var evidence: [Evidence]

    public func applies(_ kernel: KernelVersion) -> Bool { kernel >= since }

    /// The rule with one more piece of evidence.
    func shownBy(_ e: Evidence) -> VersionRule {
        var r = self
        r.evidence.append(e)
        return r
    }
}

public enum VersionRules {
    /// The saved batteries every rule is checked against.
    public static let measured = ["battery-6.1.json", "battery-6.12.json", "battery-6.18.json"]

    static let retractPlain = "run retract --trigger madvise"
    static let retractKhugepagedAll = "run retract --trigger khugepaged --nohugepage --uffd-wp --processes 3"

    public static let nohugepageNoPMDAtFault = VersionRule(
        id: "nohugepage-no-pmd-at-fault", since: KernelVersion(6, 12),
        text: "the fault path installs no PMD in a VM_NOHUGEPAGE VMA, so a MADV_NOHUGEPAGE mapping of a collapsed file maps it with PTEs",
        evidence: [.init(entry: retractKhugepagedAll, subject: "worker 1 nohugepage", inside: .equals(MappingState.pteMapped.rawValue),
                         outside: .equals(MappingState.pmdMapped.rawValue), runs: measured)])

    public static let locklessRetraction = VersionRule(
        id: "lockless-retraction", since: KernelVersion(6, 6),
        text: "retract_page_tables() needs no mmap_lock, so MADV_COLLAPSE retracts the page tables of every mapping of the file, the caller's other mappings and other processes' included",
        evidence: [
            .init(entry: retractPlain, subject: "worker 1 shared", inside: .equals(MappingState.pmdMapped.rawValue),
                  outside: .equals(MappingState.pteMapped.rawValue), runs: measured),
            .init(entry: retractPlain, subject: "thplab private-clean", inside: .equals(MappingState.pmdMapped.rawValue),
                  outside: .equals(MappingState.pteMapped.rawValue), runs: measured),
        ])

    public static let madviseCollapse = VersionRule(
        id: "madv-collapse", since: KernelVersion(6, 1),
        text: "MADV_COLLAPSE and process_madvise(MADV_COLLAPSE) exist",
        evidence: [
            .init(entry: "doctor", subject: "MADV_COLLAPSE", inside: .equals("yes"), outside: .equals("no"), runs: measured),
            .init(entry: "doctor", subject: "process_madvise(MADV_COLLAPSE)", inside: .equals("yes"), outside: .equals("no"), runs: measured),
        ])

    /// A rule shown by one row of doctor's capability table.
    static func capability(_ id: String, since: KernelVersion, _ text: String, row: String,
                           inside: VersionRule.Outcome, outside: VersionRule.Outcome) -> VersionRule {
        VersionRule(id: id, since: since, text: text,
                    evidence: [.init(entry: "doctor", subject: row, inside: inside, outside: outside, runs: measured)])
    }

    public static let pagemapScan = capability("pagemap-scan", since: KernelVersion(6, 7), "the PAGEMAP_SCAN ioctl on /proc/PID/pagemap exists",
                                               row: "PAGEMAP_SCAN", inside: .equals("yes"), outside: .equals("no"))
    public static let anonMultiSize = capability("anon-mthp", since: KernelVersion(6, 8), "anonymous multi-size THP: a hugepages-<N>kB directory per folio size",
                                                 row: "THP sizes", inside: .differs("PMD only"), outside: .equals("PMD only"))
        .shownBy(.init(entry: "run mthp", subject: "fault advised anon", inside: .equals("64k x16"), outside: .absent, runs: measured))
    public static let perSizeStats = capability("per-size-stats", since: KernelVersion(6, 9), "per-size counters under hugepages-<N>kB/stats",
                                                row: "per-size stats files", inside: .differs("none"), outside: .equals("none"))
    public static let shmemMultiSize = capability("shmem-mthp", since: KernelVersion(6, 11), "shmem multi-size THP: a shmem_enabled policy per folio size",
                                                  row: "shmem per-size policies", inside: .differs("none"), outside: .equals("none"))
        .shownBy(.init(entry: "run mthp", subject: "fault advised shmem", inside: .equals("64k x16"), outside: .absent, runs: measured))
    public static let underusedShrinker = capability(
        "underused-shrinker", since: KernelVersion(6, 12),
        "the underused-THP shrinker splits THPs mostly of zero-filled pages under memory pressure (knob shrink_underused)",
        row: "knob shrink_underused", inside: .present, outside: .absent)

    public static let all: [VersionRule] = [
        madviseCollapse, locklessRetraction, pagemapScan, anonMultiSize, perSizeStats, shmemMultiSize,
        underusedShrinker, nohugepageNoPMDAtFault,
    ]
}
