/// What keeps resident memory off PMD mappings, in the order a person must
/// deal with them: a VMA's memory is counted under the first that applies.
public enum BlockerKind: String, Codable, CodingKeyRepresentable, CaseIterable, Comparable, Sendable {
    /// No whole 2 MiB-aligned extent fits in the VMA.
    case tooSmall = "too_small"
    /// THP_enabled 0 in /proc/PID/status (prctl PR_SET_THP_DISABLE).
    case processDisabled = "thp_disabled_for_process"
    /// A regular file without CONFIG_READ_ONLY_THP_FOR_FS.
    case fileNoReadOnlyThp = "file_without_read_only_thp_for_fs"
    /// Shared memory (memfd, SysV, shared anonymous, tmpfs) at an address
    /// not congruent to its offset modulo 2 MiB.
    case misaligned
    /// A regular file mapped so.
    case misalignedFile = "misaligned_file"
    case noHugepage = "madv_nohugepage"
    case uffdWp = "uffd_wp"
    case copyOnWrite = "copy_on_write"
    /// A regular file that is not a read-only executable mapping.
    case fileNotEligible = "file_not_eligible"
    /// shmem_enabled, or the tmpfs mount's huge=, leaves it small.
    case shmemPolicy = "shmem_policy"
    /// enabled (or the PMD size's enabled) leaves anonymous memory small.
    case anonPolicy = "anon_policy"
    /// THPeligible 0 with no reason thplab can name.
    case kernelIneligible = "kernel_ineligible"
    /// Extents with fewer pages present than 512 - max_ptes_none.
    case holes
    /// Resident in mTHP folios, smaller than a PMD.
    case onlyMthp = "only_mthp"
    /// Nothing stops it: khugepaged has not collapsed it (yet).
    case notCollapsed = "not_collapsed"

    public static func < (a: BlockerKind, b: BlockerKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Whether MADV_COLLAPSE (`thplab collapse`) can get past it now.
    public var collapseCanHelp: Bool {
        switch self {
        case .shmemPolicy, .anonPolicy, .holes, .notCollapsed, .onlyMthp: return true
        default: return false
        }
    }

    public var title: String {
        switch self {
        case .tooSmall: return "VMAs too small for a 2 MiB extent (no PMD possible)"
        case .processDisabled: return "THP disabled for the process (THP_enabled 0: prctl PR_SET_THP_DISABLE)"
        case .misaligned: return "shared memory at an address not congruent to its offset modulo 2 MiB"
        case .misalignedFile: return "file mapped at an address not congruent to its offset modulo 2 MiB"
        case .noHugepage: return "MADV_NOHUGEPAGE (VmFlags nh)"
        case .uffdWp: return "userfaultfd write-protect armed (VmFlags uw)"
        case .copyOnWrite: return "copy-on-write pages in a private file or shmem mapping (an anon_vma)"
        case .fileNoReadOnlyThp: return "regular file, kernel without CONFIG_READ_ONLY_THP_FOR_FS"
        case .fileNotEligible: return "regular file not mapped read-only and executable"
        case .shmemPolicy: return "shmem THP policy leaves it small"
        case .anonPolicy: return "anonymous THP policy leaves it small"
        case .kernelIneligible: return "the kernel says THPeligible 0"
        case .holes: return "extents with too few pages present for khugepaged (max_ptes_none)"
        case .onlyMthp: return "in mTHP folios smaller than 2 MiB"
        case .notCollapsed: return "eligible but not collapsed yet"
        }
    }
}

/// What to do about a blocker.
public struct Remedy: Codable, Equatable, Sendable {
    /// Why the blocker is there, where thplab can tell more than its title.
    public var cause: String?
    /// What to change, in words.
    public var action: String
    /// Exact commands or calls (a knob write, the madvise or prctl call).
    public var commands: [String]
    /// Whether the program must be restarted for the change to act.
    public var restart: Bool
    /// What `thplab` can do about it now, if anything.
    public var thplabNow: String?
    /// `measured on 6.18` when this project saw the remedy work on the
    /// running kernel's series, else `inferred` (from the kernel's code).
    public var evidence: String

    enum CodingKeys: String, CodingKey { case cause, action, commands, restart, thplabNow = "thplab_now", evidence }
}

/// The settings a remedy depends on.
public struct RemedyContext: Sendable {
    public var knobs: [String: String]
    public var kernel: KernelVersion?
    public init(knobs: [String: String], kernel: KernelVersion?) {
        self.knobs = knobs
        self.kernel = kernel
    }

    /// The remedies this project watched work, by kernel series: the
    /// kernel tests run them (KernelTests/RealProgramKernelTests).
    static let measured: [BlockerKind: [KernelVersion]] = [
        .misaligned: [KernelVersion(6, 18)],
        .shmemPolicy: [KernelVersion(6, 18)],
        .notCollapsed: [KernelVersion(6, 18)],
    ]

    func evidence(_ kind: BlockerKind) -> String {
        guard let k = kernel,
              let series = Self.measured[kind]?.first(where: { $0.major == k.major && $0.minor == k.minor }) else { return "inferred" }
        return "measured on \(series.major).\(series.minor)"
    }
}

public enum Remedies {
    static let thp = THPSysfs.defaultRoot

    /// The remedy for `kind`, given the largest VMA it holds back.
    public static func remedy(_ kind: BlockerKind, largest v: VmaExplanation, _ ctx: RemedyContext) -> Remedy {
        let w = Writer(kind: kind, v: v, ctx: ctx)
        switch kind {
        case .misaligned, .misalignedFile: return w.address()
        case .tooSmall, .processDisabled, .noHugepage, .uffdWp, .copyOnWrite: return w.program()
        case .fileNoReadOnlyThp, .fileNotEligible, .shmemPolicy, .anonPolicy, .kernelIneligible: return w.policy()
        case .holes, .onlyMthp, .notCollapsed: return w.khugepaged()
        }
    }

    /// Writes one blocker's remedy; one function per family of blockers.
    struct Writer {
        let kind: BlockerKind
        let v: VmaExplanation
        let ctx: RemedyContext
        var collapse: String { "thplab collapse --pid \(v.pid ?? 0) --vma \(hex(v.start))" }

        func r(_ cause: String?, _ action: String, _ commands: [String] = [], restart: Bool, now: String? = nil) -> Remedy {
            Remedy(cause: cause, action: action, commands: commands, restart: restart,
                   thplabNow: now ?? (kind.collapseCanHelp ? collapse : nil), evidence: ctx.evidence(kind))
        }

        /// Where the mapping sits.
        func address() -> Remedy {
            switch kind {
            case .misaligned:
                let setting = ctx.knobs[Knob.shmemEnabled] ?? "?"
                let cause = setting == "never" || setting == "deny"
                    ? "shmem THP was off (shmem_enabled=\(setting)) when the program mapped it: the kernel picks a 2 MiB-aligned address for shared memory only when shmem THP is possible at mmap time (shmem_get_unmapped_area)"
                    : "shmem THP was off when the program mapped it (shmem_enabled is \(setting) now, so it changed since): the address is fixed at mmap time"
                return r(cause, "make shmem THP possible before the program starts, restart it (the setting may be put back once it runs), then collapse its shared memory",
                         ["echo advise > \(thp)/shmem_enabled   # before the program starts", collapse + "   # after restart, at the new address"],
                         restart: true, now: "nothing now: MADV_COLLAPSE refuses a misaligned VMA (EINVAL)")
            case .misalignedFile:
                return r("the file is mapped at offset \(v.offset) at an address that differs from it modulo 2 MiB: the program (or its loader) chose both",
                         "map the file at an address congruent to its offset modulo 2 MiB (reserve len + 2 MiB, MAP_FIXED at the aligned address), in the program",
                         restart: true, now: "nothing now: MADV_COLLAPSE refuses a misaligned VMA (EINVAL)")
            default: preconditionFailure("\(kind) is not in this family")
            }
        }

        /// What the program itself does.
        func program() -> Remedy {
            switch kind {
            case .tooSmall:
                return r(nil, "nothing to do: a PMD maps 2 MiB, and these mappings hold no aligned 2 MiB extent", restart: false)
            case .processDisabled:
                return r("the process (or a parent before exec: the flag is inherited) called prctl(PR_SET_THP_DISABLE, 1)",
                         "start it without the prctl: prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0) in the program, or a launcher that does not set it",
                         restart: true, now: "nothing: MADV_COLLAPSE is refused in a process with THP disabled")
            case .noHugepage:
                return r("the program called madvise(MADV_NOHUGEPAGE) (or prctl PR_SET_THP_DISABLE in except-advised mode marks it so)",
                         "drop the MADV_NOHUGEPAGE call, or call madvise(addr, len, MADV_HUGEPAGE) over the range, in the program",
                         ["madvise(addr, len, MADV_HUGEPAGE)"], restart: true,
                         now: "nothing: MADV_COLLAPSE refuses a VM_NOHUGEPAGE VMA (process_madvise cannot change the flag)")
            case .uffdWp:
                return r(nil, "none while the program write-protects the range with userfaultfd (retract_page_tables() skips it)", restart: false,
                         now: "nothing")
            case .copyOnWrite:
                return r("the program wrote to a MAP_PRIVATE mapping of the file: those pages are private copies, and the anon_vma makes retract_page_tables() and collapse_pte_mapped_thp() skip the mapping",
                         "map the data MAP_SHARED, or do not write to the private mapping", restart: true,
                         now: "nothing: MADV_COLLAPSE fails on extents that hold copy-on-write pages")
            default: preconditionFailure("\(kind) is not in this family")
            }
        }

        /// What the kernel's settings allow.
        func policy() -> Remedy {
            switch kind {
            case .fileNoReadOnlyThp:
                return r(nil, "a kernel built with CONFIG_READ_ONLY_THP_FOR_FS (for read-only executables), or the data on a tmpfs mounted huge=within_size; large folios of the filesystem itself can still be PMD-mapped at fault",
                         restart: true, now: "nothing: MADV_COLLAPSE refuses regular files on this kernel")
            case .fileNotEligible:
                return r(nil, "only read-only executable mappings of a file nobody has open for writing collapse (file_thp_enabled())", restart: true,
                         now: "nothing")
            case .shmemPolicy:
                let mount = !ShmemNames.isInternal(v.name)
                if mount {
                    return r("the tmpfs is mounted without huge= (or huge=never)", "remount the tmpfs with huge=within_size (or huge=advise and MADV_HUGEPAGE in the program)",
                             ["mount -o remount,huge=within_size MOUNTPOINT"], restart: false)
                }
                return r("shmem_enabled is \(ctx.knobs[Knob.shmemEnabled] ?? "?"), and memfd, SysV and shared anonymous memory follow it",
                         "write advise (then the program needs MADV_HUGEPAGE) or within_size/always (new faults allocate huge pages; costs memory for sparse use); khugepaged takes an already mapped region only once the process is on its list",
                         ["echo within_size > \(thp)/shmem_enabled"], restart: false)
            case .anonPolicy:
                return r("enabled is \(ctx.knobs[Knob.enabled] ?? "?")",
                         "call madvise(addr, len, MADV_HUGEPAGE) in the program, or write always (every process then gets THP at fault)",
                         ["echo always > \(thp)/enabled", "madvise(addr, len, MADV_HUGEPAGE)"], restart: false)
            case .kernelIneligible:
                return r(nil, "the kernel's own check (THPeligible) fails for a reason thplab cannot name; see `thplab explain --addr` and the kernel's thp_vma_allowable_orders()", restart: false,
                         now: nil)
            default: preconditionFailure("\(kind) is not in this family")
            }
        }

        /// What khugepaged will or will not do.
        func khugepaged() -> Remedy {
            switch kind {
            case .holes:
                let none = ctx.knobs[Knob.maxPtesNone] ?? "?"
                return r("khugepaged collapses an extent only with at least \(PageGeometry.pagesPerPmd) - max_ptes_none pages present (max_ptes_none is \(none))",
                         "raise max_ptes_none (each collapse then fills the holes with zeroed memory), or collapse these extents once with MADV_COLLAPSE, which ignores it",
                         ["echo 511 > \(thp)/khugepaged/max_ptes_none"], restart: false)
            case .onlyMthp:
                return r(nil, "these are large folios already, smaller than a PMD; khugepaged collapses them to 2 MiB when the PMD size is enabled for the memory (hugepages-2048kB)",
                         restart: false)
            case .notCollapsed:
                return r("nothing stops a collapse: khugepaged visits a process only once it is on its list, pages_to_scan pages every scan_sleep_millisecs (now \(ctx.knobs[Knob.scanSleepMillisecs] ?? "?") ms)",
                         "wait for khugepaged, make it scan faster, or collapse now", ["echo 1000 > \(thp)/khugepaged/scan_sleep_millisecs"], restart: false)
            default: preconditionFailure("\(kind) is not in this family")
            }
        }
    }
}
