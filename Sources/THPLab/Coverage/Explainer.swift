
/// `thplab explain`: for any processes, what the kernel's rules say about
/// huge pages, ranked by the memory each blocker holds back, without
/// changing anything.
public enum Explainer {
    public struct Context: Sendable {
        public var knobs: [String: String]
        public var readOnlyThpForFS: Bool?
        /// `huge=` of the tmpfs holding a file, by path.
        public var mountHuge: @Sendable (String) -> String?
        /// THP_enabled of the process (nil: unknown, taken as enabled).
        public var thpEnabled: Bool? = nil

        public init(knobs: [String: String], readOnlyThpForFS: Bool?, mountHuge: @escaping @Sendable (String) -> String?,
                    thpEnabled: Bool? = nil) {
            self.knobs = knobs
            self.readOnlyThpForFS = readOnlyThpForFS
            self.mountHuge = mountHuge
            self.thpEnabled = thpEnabled
        }
    }

    public static func explain(pid: Int32, address: UInt?) throws -> ExplainResult {
        try explain(targets: [.pid(pid)], address: address)
    }

    public static func explain(targets: [ProcessTarget], address: UInt?) throws -> ExplainResult {
        let release = Sys.uname().release
        let snapshot = try SnapshotTaker.take(targets: targets, system: false, withPages: false, objects: true)
        let knobs = THPSysfs().readAll().mapValues(\.current)
        let mounts = ProcFS.host.read("mounts")
        let rothp = KernelConfig.load(release: release).isSet("CONFIG_READ_ONLY_THP_FOR_FS")
        var vmas: [VmaExplanation] = []
        var processes: [ExplainedProcess] = []
        for p in snapshot.processes {
            let enabled = ProcStatus.thpEnabled(pid: p.pid)
            let ctx = Context(knobs: knobs, readOnlyThpForFS: rothp, mountHuge: { MountTable.hugeOption(of: $0, mountsText: mounts) },
                              thpEnabled: enabled)
            var mine = p.vmas.map { v -> VmaExplanation in
                var e = explain(v, ctx)
                e.pid = p.pid
                return e
            }
            if let address {
                mine = mine.filter { $0.start <= address && address < $0.end }
                guard !mine.isEmpty else { throw THPLabError.usage("pid \(p.pid) has no VMA at \(hex(address))") }
            }
            vmas += mine
            processes.append(ExplainedProcess(pid: p.pid, comm: p.comm, cgroup: p.cgroup, thpEnabled: enabled,
                                              residentKB: p.totals.resident * PageGeometry.pageKB, pmdKB: p.totals.pmd * PageGeometry.pageKB))
        }
        let first = snapshot.processes.first
        var r = ExplainResult(kernelRelease: release, pid: first?.pid ?? 0, comm: first?.comm ?? "", knobs: knobs,
                              vmas: vmas, notes: snapshot.notes + snapshot.processes.flatMap { p in p.notes.map { "pid \(p.pid): \($0)" } })
        r.targets = targets.map(\.description)
        r.processes = processes
        let ranked = Triage.rank(vmas, RemedyContext(knobs: knobs, kernel: KernelVersion(release: release)))
        r.summary = ranked.summary
        r.blockers = ranked.blockers
        r.objects = snapshot.objects
        return r
    }

    /// The pure part: one VMA (with its smaps figures) and the host's settings.
    public static func explain(_ v: VmaCoverage, _ ctx: Context) -> VmaExplanation {
        let flags = v.vmFlags.filter { ["hg", "nh", "uw", "ex", "sh", "wr"].contains($0) }
        let whole = wholeExtents(v.start, v.end)
        let aligned = VmaRules.aligned(v)
        let cowKB = VmaRules.cowKB(v)
        var blockers: [String] = []
        var kinds: [BlockerKind] = []
        func inferred(_ kind: BlockerKind, _ s: String) { kinds.append(kind); blockers.append("inferred: " + s) }
        if whole == 0 { inferred(.tooSmall, "no whole 2 MiB-aligned extent fits in this VMA: no PMD is possible") }
        if ctx.thpEnabled == false { inferred(.processDisabled, "THP_enabled 0 in /proc/PID/status: prctl(PR_SET_THP_DISABLE) disabled THP for the whole process") }
        if aligned == false { inferred(v.kind == .shmem ? .misaligned : .misalignedFile, "address not congruent to file offset modulo 2 MiB: thp_vma_suitable_order() allows no PMD") }
        if flags.contains("nh") { inferred(.noHugepage, "MADV_NOHUGEPAGE (VmFlags nh): no collapse, and since 6.12 no PMD at fault") }
        if flags.contains("uw") { inferred(.uffdWp, "userfaultfd write-protect is armed: retract_page_tables() skips the VMA") }
        if cowKB > 0 {
            inferred(.copyOnWrite, "\(cowKB) kB of copy-on-write pages (an anon_vma): retraction skips this private mapping and collapse_pte_mapped_thp() refuses extents holding them")
        }
        switch v.kind {
        case .anon:
            let enabled = ctx.knobs[Knob.pmdEnabled].flatMap { $0 == "inherit" ? nil : $0 } ?? ctx.knobs[Knob.enabled]
            if enabled == "never" { inferred(.anonPolicy, "THP for anonymous memory is never: khugepaged leaves it (MADV_COLLAPSE would not)") }
            else if enabled == "madvise" && !flags.contains("hg") { inferred(.anonPolicy, "enabled is madvise and the VMA has no MADV_HUGEPAGE: khugepaged and faults leave it small (MADV_COLLAPSE would collapse it)") }
        case .shmem:
            let global = ctx.knobs[Knob.shmemEnabled]
            let setting = global == "deny" || global == "force" ? global
                : ShmemNames.isInternal(v.backing.name) ? global
                : ctx.mountHuge(v.backing.name)
            switch setting {
            case "deny"?: inferred(.shmemPolicy, "shmem_enabled is deny: no shmem THP at all")
            case "never"?, nil: inferred(.shmemPolicy, "shmem huge setting is never (\(global == "never" ? "shmem_enabled" : "the mount's huge=")): khugepaged leaves it; MADV_COLLAPSE would collapse it")
            case "advise"? where !flags.contains("hg"): inferred(.shmemPolicy, "shmem huge setting is advise and the VMA has no MADV_HUGEPAGE: khugepaged leaves it")
            default: break
            }
        default:
            if ctx.readOnlyThpForFS != true {
                inferred(.fileNoReadOnlyThp, "a regular file: without CONFIG_READ_ONLY_THP_FOR_FS (\(ctx.readOnlyThpForFS == nil ? "config unknown" : "not set")) neither khugepaged nor MADV_COLLAPSE collapses it; only large folios from the filesystem can be PMD-mapped at fault")
            } else if !flags.contains("ex") || flags.contains("wr") {
                inferred(.fileNotEligible, "a regular file collapses only in a read-only executable mapping of a file nobody writes (file_thp_enabled())")
            }
        }
        if v.thpEligible == false {
            if kinds.isEmpty { kinds.append(.kernelIneligible) }
            blockers.append("the kernel says THPeligible 0 for this VMA")
        }
        let c = v.pages
        let verdict: String
        if c.resident == 0 { verdict = "nothing resident" }
        else if c.pmd == c.resident { verdict = "fully PMD-mapped: nothing to collapse" }
        else if blockers.isEmpty { verdict = "eligible: khugepaged or MADV_COLLAPSE can collapse the \(c.resident - c.pmd) resident pages not on PMDs (a process is only scanned once it is on khugepaged's list)" }
        else { verdict = "\(c.pmd * PageGeometry.pageKB) of \(c.resident * PageGeometry.pageKB) kB PMD-mapped; see the blockers" }
        var e = VmaExplanation(start: v.start, end: v.end, name: v.backing.name, kind: v.kind, thpEligible: v.thpEligible,
                               flags: flags, anonKBInFileMapping: cowKB, aligned: aligned, wholeExtents: whole,
                               classesKB: v.kb, coveragePercent: v.coveragePercent, blockers: blockers, verdict: verdict)
        e.offset = v.backing.offset
        e.kinds = kinds.sorted()
        e.heldBackKB = heldBack(v, primary: e.kinds.first, maxPtesNone: ctx.knobs.int(.maxPtesNone, or: 511))
        e.sizes = sizeVerdicts(v, flags: flags, ctx)
        return e
    }

    /// The folio sizes a fault may give the VMA now. Anonymous memory and
    /// the internal shmem mount (memfd, SysV, /dev/zero) follow the
    /// per-size policies; a tmpfs file its mount's huge=, a regular file
    /// its filesystem: no verdicts for those.
    static func sizeVerdicts(_ v: VmaCoverage, flags: [String], _ ctx: Context) -> [SizeVerdict]? {
        let internalShmem = ShmemNames.isInternal(v.backing.name)
        let memory: MthpMemory
        switch v.kind {
        case .anon: memory = .anon
        case .shmem where internalShmem: memory = .shmem
        default: return nil
        }
        let policies = MthpPolicies(values: ctx.knobs)
        guard !policies.offered(memory).isEmpty else { return nil }
        return policies.verdicts(memory, start: v.start, length: Int(v.end - v.start),
                                 fileOffset: memory == .shmem ? UInt(v.backing.offset) : nil, advised: flags.contains("hg"),
                                 noHugepage: flags.contains("nh"), processDisabled: ctx.thpEnabled == false)
    }

    /// Whole 2 MiB-aligned extents inside `[start, end)`.
    static func wholeExtents(_ start: UInt, _ end: UInt) -> Int {
        let huge = UInt(PageGeometry.pmdSize)
        let s = (start + huge - 1) & ~(huge - 1), e = end & ~(huge - 1)
        return e > s ? Int((e - s) / huge) : 0
    }

    /// Resident kB not PMD-mapped, by what holds it back: pages outside any
    /// whole extent are `tooSmall`; the rest go to the VMA's first blocker,
    /// or, without one, extent by extent to holes, mTHP or not collapsed.
    static func heldBack(_ v: VmaCoverage, primary: BlockerKind?, maxPtesNone: Int) -> [BlockerKind: Int] {
        var out: [BlockerKind: Int] = [:]
        func add(_ k: BlockerKind, _ pages: Int) { if pages > 0 { out[k, default: 0] += pages * PageGeometry.pageKB } }
        if primary == .tooSmall { add(.tooSmall, v.pages.resident - v.pages.pmd); return out }
        let huge = UInt(PageGeometry.pmdSize)
        for e in v.extents {
            let rest = e.pages.resident - e.pages.pmd
            guard rest > 0 else { continue }
            if e.end - e.start < huge || e.start % huge != 0 { add(.tooSmall, rest); continue }
            if let primary { add(primary, rest) }
            else if e.pages.mthp == rest { add(.onlyMthp, rest) }
            else if e.pages.resident < PageGeometry.pagesPerPmd - maxPtesNone { add(.holes, rest) }
            else { add(.notCollapsed, rest) }
        }
        // A VMA without its extent list (hand-made values): all to the first.
        if v.extents.isEmpty { add(primary ?? .notCollapsed, v.pages.resident - v.pages.pmd) }
        return out
    }
}
