/// The working set in one access state: its mapping (and the object it
/// maps, for shmem), built before any measurement and kept until the end.
final class StateMemory {
    let state: AccessState
    let region: MappedRegion
    let object: SharedObject?
    /// How the state was made, in one line.
    let how: String

    init(_ state: AccessState, region: MappedRegion, object: SharedObject?, how: String) {
        self.state = state
        self.region = region
        self.object = object
        self.how = how
    }

    /// The classes of its pages now (pagemap and kpageflags). Without
    /// PAGEMAP_SCAN (before 6.7) pagemap cannot tell a PMD from PTEs
    /// mapping a huge folio: smaps' PMD-mapped total of the mapping says
    /// how many of those extents are PMD-mapped, as in a snapshot.
    func classes() throws -> ClassCounts {
        var o = try VmaScanner(pid: Sys.pid, withPages: false).scan(start: region.start, end: region.end)
        if !o.candidates.isEmpty {
            let kb = ProcFS.host.smaps(Sys.pid, overlapping: region.start, region.end).reduce(0) { $0 + $1.pmdMappedKB }
            _ = SnapshotTaker.resolveCandidates(&o, smapsPmdKB: kb)
        }
        return o.counts
    }

    /// Builds every state of `o.memory`, the chain written into each, in
    /// the order of `AccessState.planned`.
    static func build(_ o: BenefitOptions, mthpKB: [Int], chain: AccessChain, lab: Lab) throws -> [StateMemory] {
        let mthp = try mthpKB.sorted().map { try multiSize($0, o, chain: chain, lab: lab) }
        let rest = o.memory == .anon ? try anonymous(o, chain: chain, lab: lab) : try shmem(o, chain: chain, lab: lab)
        return rest.prefix(1) + mthp + rest.dropFirst()
    }

    /// One mTHP size alone: faulted in while the size's policy is always
    /// and every other size's never (journaled, put back at once), then
    /// MADV_NOHUGEPAGE, so that khugepaged leaves it as it is.
    private static func multiSize(_ kB: Int, _ o: BenefitOptions, chain: AccessChain, lab: Lab) throws -> StateMemory {
        lab.step("building the mthp-\(kB)kB state: \(SizeParser.format(o.size)) of \(o.memory.rawValue) memory")
        let policies = MthpPolicies(knobs: lab.knobs())
        var plan = [KnobPlan.Change(name: o.memory.knob(kB: kB).rawValue, value: "always", why: "run benefit: fault the mthp-\(kB)kB state in \(kB) kB folios")]
        for other in policies.offered(o.memory) where other != kB && (policies.effective(o.memory, sizeKB: other) ?? "never") != "never" {
            plan.append(.init(name: o.memory.knob(kB: other).rawValue, value: "never", why: "run benefit: no other size while the mthp-\(kB)kB state faults in"))
        }
        try lab.apply(plan)
        defer { _ = lab.guardian.restoreKnobsNow() }
        let object = o.memory == .anon ? nil
            : try SharedObject(backing: .memfd, size: o.size, tmpfsHuge: .never, tmpfsSize: nil, directory: "/var/tmp",
                               guardian: lab.guardian, suffix: "-mthp\(kB)")
        let region = try object.map { try MappedRegion(fd: $0.fd, length: o.size, fileOffset: 0, shared: true) }
            ?? MappedRegion(anonymousLength: o.size)
        try populate(region, o)
        chain.write(into: region)
        try advise(region, .noHugepage, "MADV_NOHUGEPAGE")
        return StateMemory(.mthp(kB), region: region, object: object,
                           how: "faulted in under \(o.memory.knob(kB: kB).rawValue)=always and every other size never (put back after), then MADV_NOHUGEPAGE")
    }

    /// Anonymous memory: a region per state. Small pages: MADV_NOHUGEPAGE
    /// before any fault. PMD: faulted in small, then MADV_COLLAPSE.
    /// PTE-mapped: collapsed likewise, then each extent's PMD split by an
    /// mprotect of its last page (the folio stays whole), and
    /// MADV_NOHUGEPAGE so that khugepaged does not map it by PMD again.
    private static func anonymous(_ o: BenefitOptions, chain: AccessChain, lab: Lab) throws -> [StateMemory] {
        try [AccessState.small, .pteMapped, .pmd].map { state in
            lab.step("building the \(state.rawValue) state: \(SizeParser.format(o.size)) of anonymous memory")
            let region = try MappedRegion(anonymousLength: o.size)
            if state == .small { try advise(region, .noHugepage, "MADV_NOHUGEPAGE") }
            try populate(region, o)
            chain.write(into: region)
            guard state != .small else { return StateMemory(state, region: region, object: nil, how: "MADV_NOHUGEPAGE, then faulted in") }
            let collapse = region.collapse()
            var how = "faulted in, then MADV_COLLAPSE" + (collapse.errnoName.map { " (failed: \($0))" } ?? "")
                + (collapse.eagainRetries > 0 ? " after \(collapse.eagainRetries) EAGAIN" : "")
            if state == .pteMapped {
                try splitPMDs(region)
                how += ", then each PMD split by an mprotect of the extent's last page, and MADV_NOHUGEPAGE"
            }
            return StateMemory(state, region: region, object: nil, how: how)
        }
    }

    /// shmem (memfd) or a file on thplab's tmpfs: small pages in an object
    /// of their own (MADV_NOHUGEPAGE; tmpfs huge=never); the PMD state an
    /// aligned mapping of a second object given MADV_COLLAPSE; the
    /// PTE-mapped state a second mapping of that object, one page off the
    /// file offset's alignment, so the same huge folios are mapped by PTEs.
    private static func shmem(_ o: BenefitOptions, chain: AccessChain, lab: Lab) throws -> [StateMemory] {
        let backing: Backing = o.memory == .shmem ? .memfd : .tmpfs
        lab.step("building the small state: a \(SizeParser.format(o.size)) \(backing.rawValue) object")
        let smallObject = try SharedObject(backing: backing, size: o.size, tmpfsHuge: .never, tmpfsSize: nil, directory: "/var/tmp",
                                           guardian: lab.guardian, suffix: "-small")
        let small = try MappedRegion(fd: smallObject.fd, length: o.size, fileOffset: 0, shared: true)
        try advise(small, .noHugepage, "MADV_NOHUGEPAGE")
        try populate(small, o)
        chain.write(into: small)
        lab.step("building the pmd and pte-mapped states: a second \(SizeParser.format(o.size)) \(backing.rawValue) object, collapsed")
        let hugeObject = try SharedObject(backing: backing, size: o.size, tmpfsHuge: .advise, tmpfsSize: nil, directory: "/var/tmp",
                                          guardian: lab.guardian, suffix: "-huge")
        let pmd = try MappedRegion(fd: hugeObject.fd, length: o.size, fileOffset: 0, shared: true)
        try populate(pmd, o)
        chain.write(into: pmd)
        let collapse = pmd.collapse()
        let failed = collapse.errnoName.map { " (failed: \($0))" } ?? ""
        let pte = try MappedRegion(fd: hugeObject.fd, length: o.size, fileOffset: 0, shared: true, misalignBy: PageGeometry.pageSize)
        try advise(pte, .populateRead, "MADV_POPULATE_READ")
        return [
            StateMemory(.small, region: small, object: smallObject, how: "MADV_NOHUGEPAGE, then faulted in"),
            StateMemory(.pteMapped, region: pte, object: hugeObject,
                        how: "a second mapping of the collapsed object, one page off its alignment, faulted in" + failed),
            StateMemory(.pmd, region: pmd, object: hugeObject, how: "faulted in, then MADV_COLLAPSE" + failed),
        ]
    }

    private static func populate(_ region: MappedRegion, _ o: BenefitOptions) throws {
        if case .failure(let e) = Sys.result({ try region.madvise(.populateWrite) }) {
            throw THPLabError(.usage, "faulting in \(SizeParser.format(o.size)) of \(o.memory.rawValue) memory failed: memory is short; choose a smaller --size", errno: e)
        }
    }

    private static func advise(_ region: MappedRegion, _ advice: Advice, _ name: String) throws {
        if case .failure(let e) = Sys.result({ try region.madvise(advice) }) { throw THPLabError.system("\(name) failed", e) }
    }

    /// Splits every extent's PMD, keeping its folio: an mprotect of the
    /// extent's last page read-only and back.
    private static func splitPMDs(_ region: MappedRegion) throws {
        let pmd = PageGeometry.pmdSize, page = PageGeometry.pageSize
        do {
            for e in 0..<(region.length / pmd) {
                try region.protect(offset: e * pmd + pmd - page, length: page, writable: false)
                try region.protect(offset: e * pmd + pmd - page, length: page, writable: true)
            }
            try region.madvise(.noHugepage)
        } catch {
            throw THPLabError.system("splitting the PMDs of the pte-mapped state failed", error)
        }
    }
}
