/// `run retract`: one object mapped shared, private-clean, private-written
/// and misaligned (and, on request, nohugepage and uffd-wp) in several
/// processes; collapsed with MADV_COLLAPSE or khugepaged; every mapping
/// observed after populate, after the collapse and after every page was
/// touched again, and compared with the kernel's rules. The phases are the
/// shared ones (Phases/); what is retract's own is the set of mappings and
/// the judging of each. It never prints: progress goes through the
/// callback and everything seen into the `RetractResult`.
public struct RetractExperiment {
    public var options: RetractOptions
    /// thplab's own binary, started again as `thplab worker`.
    public var executable: String
    public var sysfs = THPSysfs()

    public init(options: RetractOptions, executable: String) {
        self.options = options
        self.executable = executable
    }

    public func run(guardian: HostGuard, progress: @escaping (ExperimentProgress) -> Void) throws -> RetractResult {
        let o = options
        let lab = Lab(guardian: guardian, sysfs: sysfs, progress: progress)
        lab.step("creating a \(SizeParser.format(o.size)) \(o.backing.rawValue) object")
        let object = try SharedObject(backing: o.backing, size: o.size, tmpfsHuge: o.tmpfsHuge,
                                      tmpfsSize: o.tmpfsSize, directory: o.directory, guardian: guardian)
        try lab.apply(KnobPlan.forPopulate(current: lab.knobsBefore))
        if o.trigger == .madvise { try lab.apply(KnobPlan.forMadviseCollapse(current: lab.knobs(), kernel: lab.kernel)) }
        let hosts = try MappingHolders.retract(o, object: object, lab: lab, executable: executable)
        defer { hosts.stop() }
        let shared = hosts.sharedRegion(object)
        let trace = try TraceSession(lab: lab, objectNames: [object.traceName], subject: hosts.subject(object),
                                     pfnSources: [.init(pid: shared.pid, start: shared.start, extents: hosts.extents, object: 0)],
                                     pids: hosts.pids) { try hosts.touchMmapLock() }
        hosts.record(.populated)
        // The experiment is about collapsing small pages: check it has some.
        let startedSmall = !hosts.phases.contains { RetractEvaluation.populatedHuge($0) }
        var trig = try RetractTrigger.run(o, object: object, hosts: hosts, trace: trace, lab: lab, startedSmall: startedSmall)
        hosts.record(.collapsed)
        trace.indexPFNs()
        if o.nohugepage {
            lab.step("MADV_NOHUGEPAGE on the nohugepage mappings")
            try hosts.each { try $0.adviseNoHugepage() }
        }
        lab.step("touching every page of every mapping again")
        try hosts.refault()
        hosts.record(.refaulted)
        trace.indexPFNs()
        try trig.collapsePrivateWritten(o, hosts: hosts)
        let huge = try hosts.hugeExtents(shared)
        let traced = trace.finish(allEvents: o.allEvents)
        if let traced { trig.wait = trig.wait.map { $0.counted(from: traced.attribution) } }
        let facts = lab.facts()
        let observed = hosts.observed
        hosts.stop()
        return judge(observed: observed, trig: trig, huge: huge, startedSmall: startedSmall,
                     object: object, traced: traced, facts: facts)
    }

    /// Every mapping and extent against the kernel's rules, in one result.
    private func judge(observed: [ObservedMapping], trig: RetractTrigger, huge: [Bool],
                       startedSmall: Bool, object: SharedObject, traced: TraceOutcome?, facts: RunFacts) -> RetractResult {
        let o = options
        let blocker = ExpectationModel.collapseBlocker(trig.context)
        let failedCall = trig.calls.first { $0.outcome.role == .shared && !$0.outcome.succeeded }?.outcome.errnoName
        let diagnoser = ExtentDiagnoser(trigger: o.trigger, backing: o.backing, trace: traced, blocker: blocker,
                                        fullScans: trig.wait?.fullScans)
        let extents = huge.indices.map { e in
            ObjectExtent(index: e, offset: e * PageGeometry.pmdSize,
                         diagnosis: diagnoser.diagnose(ExtentRef(object: 0, extent: e), collapsed: huge[e] && startedSmall, errnoName: failedCall))
        }
        var (mappings, differences) = RetractEvaluation.judge(observed, context: trig.context)
        if !startedSmall { differences.insert(Self.notSmallAfterPopulate(options: o, mountHuge: object.mountHuge), at: 0) }
        differences += RetractEvaluation.triggerDifferences(calls: trig.calls, wait: trig.wait, context: trig.context)
        var notes = facts.notes
        if observed.contains(where: { $0.phases[.populated]?.thpKB == nil }) {
            notes.append("PFNs are hidden (no CAP_SYS_ADMIN): thp_kb is unknown, only smaps figures are shown")
        }
        let info = ObjectInfo(name: object.name, size: o.size, mountHuge: object.mountHuge,
                              filesystem: object.path.flatMap { MountTable.filesystemType(of: $0) })
        return RetractResult(kernelRelease: facts.kernelRelease, trigger: o.trigger, backing: o.backing, object: info,
                             options: o, ok: differences.isEmpty, knobsBefore: facts.knobsBefore, knobsAfter: [:],
                             knobsChanged: facts.knobsChanged, deltas: facts.deltas, mappings: mappings,
                             triggerCalls: trig.calls, khugepaged: trig.wait, extents: extents, trace: traced?.summary,
                             collapseBlocker: blocker, differences: differences, notes: notes)
    }
}

extension RetractExperiment {
    /// The difference reported when populate already produced huge pages.
    static func notSmallAfterPopulate(options: RetractOptions, mountHuge: String?) -> String {
        var cause = "a shmem setting allocates huge pages at fault"
        if options.backing == .tmpfs, let h = mountHuge, h != "never", h != "advise" {
            cause = "thplab's tmpfs was mounted huge=\(h), which allocates huge pages at fault (use --tmpfs-huge advise or never)"
        } else if options.backing == .shm, let h = mountHuge, h != "never", h != "advise" {
            cause = "/dev/shm is mounted huge=\(h), which allocates huge pages at fault (try --backing memfd or tmpfs)"
        }
        return "the object was already on huge pages after populate, so there was nothing to collapse: \(cause)\(options.trigger == .khugepaged ? "; the khugepaged wait was skipped" : "")"
    }
}

extension THPLabError {
    /// A populate failure that means the filesystem or memory is full.
    var isOutOfSpace: Bool {
        guard let errno else { return false }
        return errno == .badAddress || errno == .noSpace || errno == .noMemory
    }
}
