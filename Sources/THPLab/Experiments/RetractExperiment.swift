/// `run retract`: one object mapped shared, private-clean, private-written
/// and misaligned in several processes; collapse it with MADV_COLLAPSE or
/// khugepaged; observe every mapping after populate, after the collapse and
/// after every page was touched again; compare with the kernel's rules.
/// It never prints: it reports progress through a callback and returns a
/// `RetractResult`.
public struct RetractExperiment {
    public var options: RetractOptions
    /// thplab's own binary, started again as `thplab worker`.
    public var executable: String
    public var sysfs = THPSysfs()

    public init(options: RetractOptions, executable: String) {
        self.options = options
        self.executable = executable
    }

    /// Checks that this host can run the experiment at all (exit code 3).
    public func checkHost() throws {
        try HostChecks.requireRootAndTHP(trigger: options.trigger, sysfs: sysfs)
    }

    public func run(guardian: HostGuard, progress: (ExperimentProgress) -> Void) throws -> RetractResult {
        let release = Sys.uname().release
        let kernel = KernelVersion(release: release) ?? KernelVersion(0, 0)
        let knobsBefore = sysfs.readAll()
        let countersBefore = SystemCounters.read(sysfs: sysfs)
        var notes: [String] = []
        let runKnobs = RunKnobs(guardian: guardian)

        progress(.step("creating a \(SizeParser.format(options.size)) \(options.backing.rawValue) object"))
        let object = try SharedObject(backing: options.backing, size: options.size, tmpfsHuge: options.tmpfsHuge,
                                      tmpfsSize: options.tmpfsSize, directory: options.directory, guardian: guardian)
        try runKnobs.apply(KnobPlan.forPopulate(current: knobsBefore), progress: progress)

        let specs = options.specs
        var hosts: [MappingHost] = [LocalHost(try ProcessMappings(fd: object.fd, size: options.size, specs: specs))]
        var workers: [WorkerProcess] = []
        defer { for w in workers { w.stop() } }
        for _ in 1..<options.processes {
            let w = try WorkerProcess(executable: executable, object: object.fd, guardian: guardian)
            workers.append(w)
            hosts.append(try RemoteHost(w, size: options.size, specs: specs))
        }
        progress(.step("populating every mapping in \(hosts.count) process(es)"))
        for h in hosts {
            do { try h.populate() } catch let e as THPLabError where object.path != nil && e.isOutOfSpace {
                throw THPLabError(.usage, "the \(options.backing.rawValue) filesystem of \(object.name) has no room for \(SizeParser.format(options.size)): \(e.description). Give a smaller --size\(options.backing == .tmpfs ? " or a larger --tmpfs-size" : "")")
            }
        }
        // What the events will be attributed to: the object, every mapping
        // of it, and the PFNs of its pages as the first process maps them.
        var subject = TraceSubject(objects: [.init(traceName: object.traceName, owner: nil, extents: options.size / PageGeometry.pmdSize)],
                                   mappings: hosts.flatMap { h in h.placements.map { .init(pid: h.pid, object: 0, start: $0.start, end: $0.end, offset: 0) } })
        let extents = options.size / PageGeometry.pmdSize
        let sharedStart = hosts[0].placements.first { $0.role == .shared }!.start
        func indexPFNs() { PfnIndex.add(pid: hosts[0].pid, start: sharedStart, extents: extents, object: 0, into: &subject.pfnExtent) }
        indexPFNs()
        let tracer = ScanTracer.start(guardian: guardian, objectName: object.traceName, notes: &notes)
        defer { tracer?.stop() }
        subject.knownMMs = try tracer?.identifyProcesses(hosts.map(\.pid)) { for h in hosts { try h.touchMmapLock() } } ?? [:]
        let observer = Observer(hosts: hosts)
        var phases: [[String: PhaseObservation]] = Array(repeating: [:], count: observer.count)
        observer.record(.populated, into: &phases)

        // The experiment is about collapsing small pages: check it has some.
        let startedSmall = !phases.contains { RetractEvaluation.populatedHuge($0) }
        var triggerCalls: [TriggerCall] = []
        var wait: KhugepagedWait?
        var effectiveKnobs = sysfs.readAll()
        let shmemHuge = { KnobPlan.effectiveShmemHuge(knobs: effectiveKnobs, backing: options.backing, mountHuge: object.mountHuge) }
        var context = ExpectationContext(kernel: kernel, backing: options.backing, trigger: options.trigger,
                                         readOnlyThpForFS: KernelConfig.load(release: release).isSet("CONFIG_READ_ONLY_THP_FOR_FS"),
                                         shmemHuge: shmemHuge(), madviseTimes: options.madviseTimes)
        switch options.trigger {
        case .madvise:
            progress(.step("MADV_COLLAPSE on the shared mapping of pid \(Sys.pid)"))
            if let outcome = try hosts[0].collapse(role: .shared) {
                let want = ExpectationModel.collapseCallSucceeds(context)
                triggerCalls.append(TriggerCall(outcome: outcome, expectedSuccess: want.state == .pmdMapped,
                                                met: outcome.succeeded == (want.state == .pmdMapped), rule: want.rule))
            }
        case .khugepaged:
            try runKnobs.apply(KnobPlan.forKhugepaged(current: sysfs.readAll(), backing: options.backing), progress: progress)
            effectiveKnobs = sysfs.readAll()
            context.shmemHuge = shmemHuge()
            if context.shmemHuge == "advise" && options.madviseTimes == 2 {
                notes.append("MADV_HUGEPAGE was given twice on every mapping: under shmem advise, khugepaged_enter_vma() checks eligibility with the VMA's flags from before the call, so the first call sets VM_HUGEPAGE without putting the process on khugepaged's list; the second one does (--madvise-times 1 shows it)")
            }
            progress(.step("MADV_HUGEPAGE on every mapping; waiting for khugepaged (at most \(options.timeoutSeconds) s)"))
            for h in hosts { try h.adviseHugepage(times: options.madviseTimes) }
            wait = startedSmall ? try KhugepagedWaiter(host: hosts[0], size: options.size, sysfs: sysfs,
                                        boundSeconds: options.timeoutSeconds, tracer: tracer)
                .wait(expectCollapse: options.fullWait || ExpectationModel.collapseBlocker(context) == nil,
                      progress: progress) : nil
        }
        observer.record(.collapsed, into: &phases)
        indexPFNs()
        if options.nohugepage {
            progress(.step("MADV_NOHUGEPAGE on the nohugepage mappings"))
            for h in hosts { try h.adviseNoHugepage() }
        }

        progress(.step("touching every page of every mapping again"))
        for h in hosts { try h.refault() }
        observer.record(.refaulted, into: &phases)
        indexPFNs()

        if options.trigger == .madvise, let outcome = try hosts[0].collapse(role: .privateWritten) {
            let want = ExpectationModel.collapseOnPrivateWritten(context)
            triggerCalls.append(TriggerCall(outcome: outcome, expectedSuccess: want.state == .pmdMapped,
                                            met: outcome.succeeded == (want.state == .pmdMapped), rule: want.rule))
        }
        // Which extents are on a huge page now, as the first process sees them.
        let scanner = try VmaScanner(pid: hosts[0].pid, withPages: false)
        let huge = try (0..<extents).map { e -> Bool in
            let s = sharedStart + UInt(e * PageGeometry.pmdSize)
            let c = try scanner.scan(start: s, end: s + UInt(PageGeometry.pmdSize)).counts
            return c.pmd + c.pteThp == PageGeometry.pagesPerPmd
        }
        tracer?.stop()
        let attribution = tracer.map { EventAttribution.attribute($0.events(), subject: subject) }
        if let attribution, let w = wait { wait = w.counted(from: attribution) }
        let failedCall = triggerCalls.first { $0.outcome.role == .shared && !$0.outcome.succeeded }?.outcome.errnoName
        let objectExtents = (0..<extents).map { e in
            var facts = ExtentDiagnosis.Facts(collapsed: huge[e] && startedSmall, trigger: options.trigger, errnoName: failedCall,
                                              traced: attribution != nil, objectSeen: attribution?.saw(object: 0) ?? false,
                                              blocker: ExpectationModel.collapseBlocker(context), fullScans: wait?.fullScans,
                                              objectEvents: attribution?.byObject[0] ?? [])
            facts.collapseTraced = tracer?.formats["mm_khugepaged_collapse_file"] != nil
            return ObjectExtent(index: e, offset: e * PageGeometry.pmdSize,
                                diagnosis: ExtentDiagnosis.diagnose(events: attribution?.byExtent[ExtentRef(object: 0, extent: e)] ?? [], facts: facts))
        }
        let countersAfter = SystemCounters.read(sysfs: sysfs)
        for w in workers { w.stop() }
        workers.removeAll()
        hosts.removeAll()

        let observed = observer.slots.enumerated().map { i, slot in
            ObservedMapping(role: slot.placement.role, pid: slot.pid, start: slot.placement.start,
                            end: slot.placement.end, inTriggerProcess: slot.hostIndex == 0, phases: phases[i])
        }
        var (mappings, differences) = RetractEvaluation.judge(observed, context: context)
        if !startedSmall {
            differences.insert(Self.notSmallAfterPopulate(options: options, mountHuge: object.mountHuge), at: 0)
        }
        differences += RetractEvaluation.triggerDifferences(calls: triggerCalls, wait: wait, context: context)
        if phases.contains(where: { $0[Phase.populated.rawValue]?.thpKB == nil }) {
            notes.append("PFNs are hidden (no CAP_SYS_ADMIN): thp_kb is unknown, only smaps figures are shown")
        }

        let info = ObjectInfo(name: object.name, size: options.size, mountHuge: object.mountHuge,
                              filesystem: object.path.flatMap { MountTable.filesystemType(of: $0) })
        return RetractResult(kernelRelease: release, trigger: options.trigger, backing: options.backing, object: info,
                             options: options, ok: differences.isEmpty,
                             knobsBefore: knobsBefore.mapValues(\.current), knobsAfter: [:], knobsChanged: runKnobs.changes,
                             deltas: countersAfter.delta(since: countersBefore), mappings: mappings,
                             triggerCalls: triggerCalls, khugepaged: wait, extents: objectExtents,
                             trace: attribution.map { TraceSummary(formats: tracer!.formats, attribution: $0, lost: tracer!.lostEvents(), allEvents: options.allEvents) },
                             collapseBlocker: ExpectationModel.collapseBlocker(context),
                             differences: differences, notes: notes)
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
