/// What the kernel's rules predict for the retract experiment, mapping by
/// mapping, with the rule each prediction comes from. Pure: everything it
/// needs about the host is in `ExpectationContext`, so unit tests cover the
/// model for any kernel and configuration.
public struct ExpectationContext: Sendable {
    public var kernel: KernelVersion
    public var backing: Backing
    public var trigger: Trigger
    /// CONFIG_READ_ONLY_THP_FOR_FS; nil when the kernel config is unknown.
    public var readOnlyThpForFS: Bool?
    /// The shmem huge setting that governs the object during the collapse:
    /// the mount's `huge=` for tmpfs and /dev/shm, `shmem_enabled` for memfd
    /// (as thplab set it for the run); `deny`/`force` in `shmem_enabled`
    /// override both.
    public var shmemHuge: ShmemHuge?
    /// How many times MADV_HUGEPAGE was given (khugepaged trigger).
    public var madviseTimes: Int
    /// For anonymous memory: the effective `enabled` for PMD-sized THP
    /// (`hugepages-2048kB/enabled`, or the global one it inherits).
    public var anonEnabled: AnonEnabled?
    /// `hugepages-<PMD>kB/shmem_enabled` as set (nil where the kernel has no
    /// per-size shmem policies): since 6.18 MADV_COLLAPSE of a memfd obeys it.
    public var shmemPmdPolicy: SizeShmemPolicy?

    public init(kernel: KernelVersion, backing: Backing, trigger: Trigger, readOnlyThpForFS: Bool?, shmemHuge: ShmemHuge?,
                madviseTimes: Int = 2) {
        self.madviseTimes = madviseTimes
        self.kernel = kernel
        self.backing = backing
        self.trigger = trigger
        self.readOnlyThpForFS = readOnlyThpForFS
        self.shmemHuge = shmemHuge
    }
}

public enum Trigger: String, Codable, CaseIterable, Sendable {
    /// MADV_COLLAPSE on the shared mapping of thplab's own process.
    case madvise
    /// MADV_HUGEPAGE, then khugepaged, made fast for the run.
    case khugepaged
}

public struct Expectation: Codable, Equatable, Sendable {
    public var state: MappingState
    /// The kernel rule, in one line.
    public var rule: String
}

public enum ExpectationModel {
    /// Whether the object can be collapsed at all by this trigger, and if
    /// not, why (one line).
    public static func collapseBlocker(_ c: ExpectationContext) -> String? {
        if c.backing == .anon {
            if c.trigger == .khugepaged && c.anonEnabled == .never {
                return "THP for anonymous memory is never (enabled / hugepages-2048kB/enabled): khugepaged does not collapse it (MADV_COLLAPSE would)"
            }
            return nil
        }
        if c.backing == .file {
            if c.readOnlyThpForFS != true {
                let known = c.readOnlyThpForFS == nil ? "may lack (its config is unreadable)" : "lacks"
                return "regular-file collapse needs CONFIG_READ_ONLY_THP_FOR_FS, which this kernel \(known): file_thp_enabled() is false, so neither MADV_COLLAPSE (EINVAL) nor khugepaged touches it"
            }
            return "with CONFIG_READ_ONLY_THP_FOR_FS, file_thp_enabled() still wants a VM_EXEC mapping of a file nobody has open for writing; this object is open for writing"
        }
        if c.shmemHuge != .deny, let why = memfdRefusal(c) { return why }
        switch c.shmemHuge {
        case .deny?:
            return "shmem_enabled is deny: no shmem THP at all, MADV_COLLAPSE included"
        case .never? where c.trigger == .khugepaged:
            let knob = c.backing == .memfd ? "shmem_enabled" : "the mount's huge= option"
            return "\(knob) is never: khugepaged collapses shmem only where that allows huge pages (MADV_COLLAPSE would ignore it)"
        case .advise? where c.trigger == .khugepaged && c.madviseTimes < 2:
            return "MADV_HUGEPAGE given once under shmem advise: khugepaged_enter_vma() judges eligibility by the VMA's flags before the call sets VM_HUGEPAGE (shmem_allowable_huge_orders() reads vma->vm_flags), so the process never joins khugepaged's list"
        default:
            return nil
        }
    }

    /// The state expected after every mapping touched every page again.
    /// - Parameter inTriggerProcess: whether the mapping lives in the process
    ///   that called MADV_COLLAPSE.
    public static func expect(role: MappingRole, inTriggerProcess: Bool, isTriggerMapping: Bool,
                              _ c: ExpectationContext) -> Expectation {
        if let blocker = collapseBlocker(c) {
            return Expectation(state: .pteMapped, rule: "no collapse: " + blocker)
        }
        switch role {
        case .uffdWp:
            return Expectation(state: .pteMapped, rule: "userfaultfd write-protect is armed: retract_page_tables() skips the VMA, so it keeps its PTE table and maps the huge folio with PTEs")
        case .nohugepage:
            if VersionRules.nohugepageNoPMDAtFault.applies(c.kernel) {
                return Expectation(state: .pteMapped, rule: "MADV_NOHUGEPAGE after the collapse: since 6.12 the fault path installs no PMD in a VM_NOHUGEPAGE VMA, so it maps the huge folio with PTEs")
            }
            if c.trigger == .madvise && !VersionRules.locklessRetraction.applies(c.kernel) {
                return Expectation(state: .pteMapped, rule: "MADV_NOHUGEPAGE after the collapse, but \(Self.queuedForKhugepaged): this mapping keeps its PTE table and refaults through it, whatever the fault path would do with VM_NOHUGEPAGE (measured on Debian's 6.1)")
            }
            return Expectation(state: .pmdMapped, rule: "MADV_NOHUGEPAGE after the collapse: before 6.12 the fault path still maps the huge folio with a PMD once the PTE table is gone")
        case .misaligned:
            return Expectation(state: .pteMapped, rule: "address not congruent to the file offset modulo 2 MiB: thp_vma_suitable_order() allows no PMD, so it maps the huge folio with PTEs")
        case .privateWritten:
            let later = c.trigger == .khugepaged ? " (a later khugepaged scan may still PMD-map extents without such a page, through collapse_pte_mapped_thp())" : ""
            return Expectation(state: .pteMapped, rule: "copy-on-write pages gave it an anon_vma: retract_page_tables() skips it and it maps the huge folio with PTEs; collapse_pte_mapped_thp() refuses an extent where an anonymous page sits\(later)")
        case .shared, .privateClean:
            if isTriggerMapping {
                return Expectation(state: .pmdMapped, rule: "MADV_COLLAPSE installs the PMD in the calling mapping at once")
            }
            let what = role == .shared ? "shared mapping" : "MAP_PRIVATE mapping never written (no anon_vma)"
            if VersionRules.locklessRetraction.applies(c.kernel) {
                let how = c.trigger == .khugepaged ? "after khugepaged's collapse_file()" : "after MADV_COLLAPSE"
                return Expectation(state: .pmdMapped, rule: "\(what): \(how), retract_page_tables() removes its PTE table without mmap_lock (6.6+), so the next fault maps a PMD")
            }
            if c.trigger == .madvise && inTriggerProcess {
                return Expectation(state: .pteMapped, rule: "\(what) in the process calling MADV_COLLAPSE: \(Self.queuedForKhugepaged), so its PTEs stay")
            }
            if c.trigger == .madvise {
                return Expectation(state: .pteMapped, rule: "\(what) in another process: \(Self.queuedForKhugepaged), so this mapping refaults through PTEs (measured on Debian's 6.1)")
            }
            return Expectation(state: .pmdMapped, rule: "\(what): before 6.6 khugepaged's retract_page_tables() takes mmap_write_trylock() of this process, which normally succeeds, so the next fault maps a PMD (measured on Debian's 6.1)")
        }
    }

    /// Why MADV_COLLAPSE leaves the other mappings' PTE tables before 6.6
    /// (the run keeps khugepaged asleep: KnobPlan.forMadviseCollapse).
    static let queuedForKhugepaged = "before 6.6 MADV_COLLAPSE retracts only its own range and queues every other mapping for khugepaged's next visit (khugepaged_add_pte_mapped_thp; held off for this run)"

    /// MADV_COLLAPSE on a private-written mapping after refault: expected to
    /// fail (state `.pteMapped` stands for failure, `.pmdMapped` for success).
    public static func collapseOnPrivateWritten(_ c: ExpectationContext) -> Expectation {
        if let blocker = collapseBlocker(c), c.backing == .file || c.shmemHuge == .deny || memfdRefusal(c) != nil {
            return Expectation(state: .pteMapped, rule: "MADV_COLLAPSE fails (EINVAL): " + blocker)
        }
        return Expectation(state: .pteMapped, rule: "collapse_pte_mapped_thp() refuses an extent where a PTE maps an anonymous copy-on-write page, so MADV_COLLAPSE fails (EINVAL)")
    }

    /// Whether MADV_COLLAPSE on the trigger mapping is expected to succeed.
    public static func collapseCallSucceeds(_ c: ExpectationContext) -> Expectation {
        if c.backing == .file {
            return Expectation(state: .pteMapped, rule: "MADV_COLLAPSE on a regular file fails with EINVAL: " + (collapseBlocker(c) ?? ""))
        }
        if c.shmemHuge == .deny {
            return Expectation(state: .pteMapped, rule: "MADV_COLLAPSE fails with EINVAL: shmem_enabled is deny")
        }
        if let why = memfdRefusal(c) {
            return Expectation(state: .pteMapped, rule: "MADV_COLLAPSE fails with EINVAL: " + why)
        }
        return Expectation(state: .pmdMapped, rule: "MADV_COLLAPSE ignores shmem_enabled, huge= and max_ptes_*: it collapses the range and returns 0")
    }

    /// Why MADV_COLLAPSE of this memfd fails with EINVAL under the PMD
    /// size's per-size policy (6.18+), or nil.
    static func memfdRefusal(_ c: ExpectationContext) -> String? {
        guard c.backing == .memfd, c.trigger == .madvise else { return nil }
        return MemfdCollapseRule.refusal(kernel: c.kernel, pmdPolicy: c.shmemPmdPolicy, advised: false)
    }
}
