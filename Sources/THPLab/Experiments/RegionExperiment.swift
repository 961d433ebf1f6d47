import Foundation

/// The scenarios that tune khugepaged, on one region of `extents` 2 MiB
/// extents with `present` of each extent's 512 pages faulted in:
///   collapse  every page present; either trigger; any backing, anon included
///   sparse    `present` pages per extent; khugepaged collapses an extent only
///             if present >= 512 - max_ptes_none
///   latency   time from MADV_HUGEPAGE to each extent's collapse, and to full
///             coverage, from the tracepoints' own timestamps
///   swap      `swapped` pages of each extent pushed out with MADV_PAGEOUT;
///             khugepaged collapses an extent only if swapped <= max_ptes_swap
///   numa      every extent's small pages spread over the NUMA nodes before
///             the collapse; which node gets the huge page
public struct RegionOptions: Codable, Equatable, Sendable {
    public enum Scenario: String, Codable, CaseIterable, Sendable { case collapse, sparse, latency, swap, numa }

    public var scenario: Scenario = .collapse
    public var backing: Backing = .memfd
    public var extents: Int = 4
    /// Pages faulted in at the start of each extent (1...512).
    public var present: Int = 512
    /// Pages of each extent pushed out to swap (swap scenario).
    public var swapped: Int = 0
    public var trigger: Trigger = .khugepaged
    public var timeoutSeconds: Int = 60
    public var tmpfsHuge: TmpfsHuge = .advise
    public var directory: String = "."
    /// Wait the whole bound even when no collapse is expected.
    public var fullWait = false
    /// Regions in this many processes (thplab and workers), each its own
    /// object, competing for khugepaged (latency, collapse by khugepaged).
    public var processes = 1
    /// Show other processes' huge_memory events too.
    public var allEvents = false
    /// Where the region's pages go (NUMA); nil: the process's own policy.
    public var placement: Placement?

    enum CodingKeys: String, CodingKey {
        case scenario, backing, extents, present, swapped, trigger, directory, fullWait = "full_wait", processes
        case allEvents = "all_events", placement
        case timeoutSeconds = "timeout_seconds", tmpfsHuge = "tmpfs_huge"
    }

    public init(scenario: Scenario = .collapse) {
        self.scenario = scenario
        if scenario == .sparse { present = 256 }
        if scenario == .swap { swapped = 128 }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(scenario: try c.decodeIfPresent(Scenario.self, forKey: .scenario) ?? .collapse)
        backing = try c.decodeIfPresent(Backing.self, forKey: .backing) ?? backing
        extents = try c.decodeIfPresent(Int.self, forKey: .extents) ?? extents
        present = try c.decodeIfPresent(Int.self, forKey: .present) ?? present
        swapped = try c.decodeIfPresent(Int.self, forKey: .swapped) ?? swapped
        trigger = try c.decodeIfPresent(Trigger.self, forKey: .trigger) ?? trigger
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? timeoutSeconds
        tmpfsHuge = try c.decodeIfPresent(TmpfsHuge.self, forKey: .tmpfsHuge) ?? tmpfsHuge
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
        fullWait = try c.decodeIfPresent(Bool.self, forKey: .fullWait) ?? fullWait
        processes = try c.decodeIfPresent(Int.self, forKey: .processes) ?? processes
        allEvents = try c.decodeIfPresent(Bool.self, forKey: .allEvents) ?? allEvents
        placement = try c.decodeIfPresent(Placement.self, forKey: .placement)
    }

    public func validate(memAvailableKB: Int64?, topology: NumaTopology) throws {
        guard (1...4096).contains(extents) else { throw THPLabError.usage("--extents must be from 1 to 4096") }
        guard (1...512).contains(present) else { throw THPLabError.usage("--present must be from 1 to 512 pages of each extent") }
        guard (1...3600).contains(timeoutSeconds) else { throw THPLabError.usage("--timeout must be from 1 to 3600 seconds") }
        if let placement {
            try placement.validate(topology)
            guard processes == 1 else { throw THPLabError.usage("--node, --interleave and --preferred place thplab's own region: use them with --processes 1") }
        }
        if scenario == .numa {
            let withMemory = topology.nodes.filter { $0.memTotalKB > 0 }
            guard withMemory.count >= 2 else {
                throw THPLabError(.unsupported, "the numa scenario needs two NUMA nodes with memory; this host has \(withMemory.count). Run it in a two-node guest: thplab vm --kernel K --memory 2G --numa 1G,cpus=0 --numa 1G,cpus=1 -- run numa")
            }
        }
        if scenario != .collapse && scenario != .numa && trigger != .khugepaged {
            throw THPLabError.usage("\(scenario.rawValue) is about khugepaged: use --trigger khugepaged (MADV_COLLAPSE ignores max_ptes_* and has no latency)")
        }
        guard (1...16).contains(processes) else { throw THPLabError.usage("--processes must be from 1 to 16") }
        if processes > 1 {
            guard scenario == .latency || (scenario == .collapse && trigger == .khugepaged), backing != .anon else {
                throw THPLabError.usage("--processes above 1 is for latency and collapse --trigger khugepaged, on shmem or file regions (each process gets its own object)")
            }
        }
        if scenario == .swap {
            guard (1...512).contains(swapped) else { throw THPLabError.usage("--swapped must be from 1 to 512 pages of each extent") }
            guard backing.isShmem || backing == .anon else { throw THPLabError.usage("swap needs shmem or anonymous memory: regular file pages are written back, not swapped") }
        }
        if backing == .file && !Sys.isDirectory(directory) { throw THPLabError.usage("--dir \(directory) is not a directory") }
        let needed = Int64(extents * processes) * 2 * Int64(PageGeometry.pmdSize) + (64 << 20)
        if let memAvailableKB, needed > memAvailableKB * 1024 {
            throw THPLabError.usage("\(extents) extents need about \(needed >> 20) MiB, but only \(memAvailableKB >> 10) MiB is available")
        }
    }
}

/// One extent of the region: how it started and ended.
public struct ExtentOutcome: Codable, Equatable, Sendable {
    /// The process whose region holds the extent.
    public var pid: Int32
    public var start: UInt
    public var presentPages: Int
    public var collapsed: Bool
    /// Milliseconds from MADV_HUGEPAGE (khugepaged) or the start of the call
    /// (MADV_COLLAPSE) to the collapse.
    public var latencyMs: Double?
    /// MADV_COLLAPSE's errno for this extent (0 on success).
    public var errnoName: String?
    /// The extent's classes after its first page was touched again.
    public var pagesAfter: ClassCounts
    /// Its huge_memory events, the last scan result and the reason.
    public var diagnosis: ExtentDiagnosis?
    /// NUMA node -> present pages after populate and at the end (set with
    /// a placement or on a host with more than one node).
    public var nodesBefore: [String: Int]?
    public var nodesAfter: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case pid, start, presentPages = "present_pages", collapsed, latencyMs = "latency_ms", errnoName = "errno_name"
        case pagesAfter = "pages_after", diagnosis, nodesBefore = "nodes_before", nodesAfter = "nodes_after"
    }
}

public struct LatencyStats: Codable, Equatable, Sendable {
    public var medianMs: Double
    public var minMs: Double
    public var maxMs: Double
    /// Time to the last extent's collapse, when all collapsed.
    public var fullCoverageMs: Double?
    /// `tracepoints` (microseconds) or `polling` (about 50 ms).
    public var source: String

    enum CodingKeys: String, CodingKey {
        case medianMs = "median_ms", minMs = "min_ms", maxMs = "max_ms", fullCoverageMs = "full_coverage_ms", source
    }

    public static func of(_ values: [Double], extents: Int, source: String) -> LatencyStats? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        func r(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
        return LatencyStats(medianMs: r(median), minMs: r(s.first!), maxMs: r(s.last!),
                            fullCoverageMs: values.count == extents ? r(s.last!) : nil, source: source)
    }
}

public struct RegionResult: Codable, Sendable {
    public var schemaVersion = 1
    public var kind = "run"
    public var scenario: String
    public var kernelRelease: String
    public var options: RegionOptions
    public var knobsBefore: [String: String]
    public var knobsAfter: [String: String]
    public var knobsChanged: [KnobChange]
    /// The knob values in force during the run (a sweep point's values).
    public var knobsInForce: [String: String]
    public var extents: [ExtentOutcome]
    public var collapsed: Int
    public var total: Int
    public var coveragePercent: Double
    public var latency: LatencyStats?
    public var expectedCollapsed: Int
    /// The rule behind the expectation, in one line.
    public var rule: String
    public var khugepaged: KhugepagedWait?
    /// The huge_memory tracepoints, when they could be read.
    public var trace: TraceSummary?
    /// NUMA: the placement and the nodes' huge-page figures.
    public var numa: NumaRunSummary?
    public var deltas: SystemCounters
    public var ok: Bool
    public var differences: [String]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", kind, scenario, kernelRelease = "kernel_release", options
        case knobsBefore = "knobs_before", knobsAfter = "knobs_after", knobsChanged = "knobs_changed"
        case knobsInForce = "knobs_in_force", extents, collapsed, total, coveragePercent = "coverage_percent", latency
        case expectedCollapsed = "expected_collapsed", rule, khugepaged, trace, numa, deltas, ok, differences, notes
    }
}

public struct RegionExperiment {
    public var options: RegionOptions
    public var sysfs = THPSysfs()
    /// Knobs the run must leave as they are (a sweep's, or latency's own
    /// subject): the plan that makes khugepaged fast skips them.
    public var pinned: Set<String>
    /// thplab's own binary, for the worker processes of `processes` > 1.
    public var executable = Sys.ownExecutable()
    static let huge = PageGeometry.pmdSize

    public init(options: RegionOptions, pinned: Set<String> = []) {
        self.options = options
        var p = pinned
        if options.scenario == .latency {
            p.formUnion(["khugepaged/scan_sleep_millisecs", "khugepaged/alloc_sleep_millisecs", "khugepaged/pages_to_scan"])
        }
        self.pinned = p
    }

    /// How many extents the kernel's rules say will collapse, and why.
    public static func expectation(_ o: RegionOptions, context: ExpectationContext, maxPtesNone: Int,
                                   maxPtesSwap: Int = 64) -> (Int, String) {
        if let blocker = ExpectationModel.collapseBlocker(context) { return (0, "no collapse: " + blocker) }
        if o.trigger == .madvise {
            return (o.extents, "MADV_COLLAPSE ignores max_ptes_none and the THP settings: every extent collapses")
        }
        if o.scenario == .swap {
            if o.swapped > maxPtesSwap {
                return (0, "khugepaged gives up on an extent with more than max_ptes_swap = \(maxPtesSwap) pages in swap (exceed_swap_pte); each has \(o.swapped)")
            }
            if 512 - o.swapped < 512 - maxPtesNone {
                return (0, "the \(o.swapped) swapped pages count as absent too: fewer than 512 - max_ptes_none = \(512 - maxPtesNone) present")
            }
            return (o.extents, "khugepaged collapses an extent with at most max_ptes_swap = \(maxPtesSwap) pages in swap, swapping them back in; each has \(o.swapped)")
        }
        let need = 512 - maxPtesNone
        if o.present >= need {
            return (o.extents, "khugepaged collapses an extent with at least 512 - max_ptes_none = \(need) pages present; each has \(o.present)")
        }
        return (0, "khugepaged gives up on an extent with fewer than 512 - max_ptes_none = \(need) pages present (exceed_none_pte); each has \(o.present)")
    }

    public func run(guardian: HostGuard, progress: (ExperimentProgress) -> Void) throws -> RegionResult {
        let o = options
        let release = Sys.uname().release
        let knobsBefore = sysfs.readAll()
        let countersBefore = SystemCounters.read(sysfs: sysfs)
        var notes: [String] = []
        let runKnobs = RunKnobs(guardian: guardian)
        let size = o.extents * Self.huge
        progress(.step("\(o.scenario.rawValue): \(o.extents) extent(s) of \(o.backing.rawValue), \(o.present) of 512 pages present in each"))
        var object: SharedObject?
        let region: MappedRegion
        if o.backing == .anon {
            region = try MappedRegion(anonymousLength: size)
        } else {
            let obj = try SharedObject(backing: o.backing, size: size, tmpfsHuge: o.tmpfsHuge, tmpfsSize: nil,
                                       directory: o.directory, guardian: guardian)
            object = obj
            region = try MappedRegion(fd: obj.fd, length: size, fileOffset: 0, shared: true)
        }
        // A knob the user sweeps is never overridden, not even for populate:
        // a shmem_enabled=always point must show what always does.
        // NUMA: the policy goes on the range before any page is faulted in.
        let topology = NumaTopology.read()
        let nodeMap = PfnNodeMap.read(nodes: topology.nodes.map(\.node))
        let placement = o.placement ?? (o.scenario == .numa ? .interleave(topology.nodes.filter { $0.memTotalKB > 0 }.map(\.node)) : nil)
        try placement?.apply(to: region)
        let countNodes = placement != nil || topology.nodes.count > 1
        let populatePlan = o.backing == .anon ? KnobPlan.forAnonPopulate(current: knobsBefore)
            : o.backing.isShmem ? KnobPlan.forPopulate(current: knobsBefore) : []
        try runKnobs.apply(populatePlan.filter { !pinned.contains($0.name) }, progress: progress)
        for e in 0..<o.extents {
            if case .failure(let err) = region.madvise(.populateWrite, offset: e * Self.huge, length: o.present * 4096) {
                throw THPLabError(.usage, "populating extent \(e) failed: the filesystem or memory is full", errno: err)
            }
        }
        // swap: push `swapped` pages of each extent out, onto the host's swap
        // or a swap file made for the run.
        var swap: SwapArea?
        if o.scenario == .swap {
            swap = try SwapArea(guardian: guardian)
            if swap!.ownedByThplab { notes.append("no swap on this host: thplab made \(swap!.path) for the run and removed it afterwards") }
            for e in 0..<o.extents {
                _ = region.madvise(.pageout, offset: e * Self.huge, length: o.swapped * 4096)
            }
            let swappedKB = SmapsParser.parse(FileIO.readIfPresent("/proc/self/smaps") ?? "")
                .filter { $0.start < region.end && $0.end > region.start }.reduce(0) { $0 + $1.kb("Swap") }
            notes.append("MADV_PAGEOUT put \(swappedKB) kB of the region in swap (asked: \(o.extents * o.swapped * 4) kB)")
            if swappedKB < o.extents * o.swapped * 4 {
                throw THPLabError(.unsupported, "MADV_PAGEOUT pushed only \(swappedKB) of \(o.extents * o.swapped * 4) kB to swap: the host's swap is full or refuses shmem")
            }
        }
        defer { withExtendedLifetime(swap) {} }
        let nodesBefore = countNodes ? NodeCounter.perExtent(pid: Sys.pid, start: region.start, extents: o.extents, map: nodeMap) : []
        var placementProblem: String?
        if let placement {
            placementProblem = placement.check(pagesPerNode: NodeCounter.total(nodesBefore))
            if let p = placementProblem { notes.append("placement did not hold: " + p) }
            else { notes.append("placement held after populate: \(placement.description)") }
        }
        // More processes: each a worker with its own object, fully populated.
        var others: [(object: SharedObject, worker: WorkerProcess, host: RemoteHost)] = []
        defer { for w in others { w.worker.stop() } }
        for p in 1..<o.processes {
            let obj = try SharedObject(backing: o.backing, size: size, tmpfsHuge: o.tmpfsHuge, tmpfsSize: nil,
                                       directory: o.directory, guardian: guardian, suffix: "-r\(p)")
            let w = try WorkerProcess(executable: executable, object: obj.fd, guardian: guardian)
            let h = try RemoteHost(w, size: size, specs: [MappingSpec(role: .shared)])
            try h.populate()
            others.append((obj, w, h))
        }
        // Every region: (pid, start, the name its events print).
        let regions: [(pid: Int32, start: UInt, name: String?)] = [(Sys.pid, region.start, object?.traceName)]
            + others.map { ($0.host.pid, $0.host.placements[0].start, $0.object.traceName) }
        let totalExtents = regions.count * o.extents
        var scanners: [Int32: VmaScanner] = [:]
        for r in regions { scanners[r.pid] = try VmaScanner(pid: r.pid, withPages: false) }
        /// Extent g of all regions: region g / extents, extent g % extents.
        func extentStart(_ g: Int) -> UInt { regions[g / o.extents].start + UInt((g % o.extents) * Self.huge) }
        func extentCounts(_ g: Int) throws -> ClassCounts {
            let s = extentStart(g)
            return try scanners[regions[g / o.extents].pid]!.scan(start: s, end: s + UInt(Self.huge)).counts
        }
        let startedSmall = try (0..<totalExtents).allSatisfy { let c = try extentCounts($0); return c.pmd + c.pteThp + c.mthp == 0 }
        // What the events will be attributed to: one object per region.
        var subject = TraceSubject(objects: regions.map { .init(traceName: $0.name, owner: $0.pid, extents: o.extents) },
                                   mappings: regions.enumerated().map { r, reg in
                                       .init(pid: reg.pid, object: r, start: reg.start, end: reg.start + UInt(size), offset: 0) })
        func indexPFNs() {
            for (r, reg) in regions.enumerated() {
                PfnIndex.add(pid: reg.pid, start: reg.start, extents: o.extents, object: r, into: &subject.pfnExtent)
            }
        }
        indexPFNs()
        let tracer = ScanTracer.start(guardian: guardian, objectNames: regions.compactMap(\.name), notes: &notes)
        defer { tracer?.stop() }
        subject.knownMMs = try tracer?.identifyProcesses(regions.map(\.pid)) {
            Sys.touchMmapLock()
            for other in others { try other.host.touchMmapLock() }
        } ?? [:]

        var knobs = sysfs.readAll()
        var context = ExpectationContext(kernel: KernelVersion(release: release) ?? KernelVersion(0, 0), backing: o.backing,
                                         trigger: o.trigger,
                                         readOnlyThpForFS: KernelConfig.load(release: release).isSet("CONFIG_READ_ONLY_THP_FOR_FS"),
                                         shmemHuge: nil)
        var collapsedAt: [Int: Double] = [:]
        var errnos: [Int: String] = [:]
        var wait: KhugepagedWait?
        var latencySource = "polling"
        switch o.trigger {
        case .madvise:
            context.shmemHuge = KnobPlan.effectiveShmemHuge(knobs: knobs, backing: o.backing, mountHuge: object?.mountHuge)
            progress(.step("MADV_COLLAPSE extent by extent"))
            for e in 0..<o.extents {
                let t = Sys.monotonicNanoseconds()
                switch region.madvise(.collapse, offset: e * Self.huge, length: Self.huge) {
                case .success:
                    collapsedAt[e] = Double(Sys.monotonicNanoseconds() - t) / 1e6
                    errnos[e] = nil
                case .failure(let err): errnos[e] = ErrnoName.of(err)
                }
            }
            latencySource = "syscall"
        case .khugepaged:
            try runKnobs.apply(KnobPlan.forKhugepaged(current: sysfs.readAll(), backing: o.backing).filter { !pinned.contains($0.name) }, progress: progress)
            knobs = sysfs.readAll()
            context.shmemHuge = KnobPlan.effectiveShmemHuge(knobs: knobs, backing: o.backing, mountHuge: object?.mountHuge)
            context.anonEnabled = Self.anonEnabled(knobs)
            let expectCollapse = Self.expectation(o, context: context, maxPtesNone: Int(knobs["khugepaged/max_ptes_none"]?.current ?? "511") ?? 511,
                                                  maxPtesSwap: Int(knobs["khugepaged/max_ptes_swap"]?.current ?? "64") ?? 64).0 > 0
            progress(.step("MADV_HUGEPAGE; waiting for khugepaged (at most \(o.timeoutSeconds) s)"))
            // The clock starts just before MADV_HUGEPAGE: khugepaged may
            // collapse the first extent before the call even returns.
            tracer?.mark("thplab-eligible")
            let t0 = Sys.monotonicNanoseconds()
            for _ in 0..<2 { _ = region.madvise(.hugepage) }
            for other in others { try other.host.adviseHugepage(times: 2) }
            let scans0 = Int64((try? sysfs.read("khugepaged/full_scans"))?.current ?? "0") ?? 0
            func elapsed() -> Double { Double(Sys.monotonicNanoseconds() - t0) / 1e9 }
            var scans: Int64 = 0
            var idle = false
            while startedSmall {
                for e in 0..<totalExtents where collapsedAt[e] == nil {
                    let c = try extentCounts(e)
                    // File and shmem: collapse_file() unmapped the small pages.
                    // Anonymous: the extent is one huge folio now (PMD-mapped;
                    // without PAGEMAP_SCAN pagemap cannot say how it is mapped).
                    let anonHuge = c.pmd + c.pteThp == PageGeometry.pagesPerPmd
                    if (o.backing == .anon && anonHuge) || (o.backing != .anon && c.resident == 0) { collapsedAt[e] = elapsed() * 1000 }
                }
                scans = (Int64((try? sysfs.read("khugepaged/full_scans"))?.current ?? "0") ?? 0) - scans0
                progress(.waiting(elapsed: elapsed(), bound: o.timeoutSeconds, fullScans: scans, collapsed: collapsedAt.count, total: totalExtents))
                if collapsedAt.count == totalExtents { break }
                if !expectCollapse && !o.fullWait && scans >= 2 { break }
                if !expectCollapse && !o.fullWait && scans == 0 && elapsed() >= ScanTracer.idleSeconds && tracer?.khugepagedSilent() == true {
                    idle = true
                    break
                }
                if elapsed() >= Double(o.timeoutSeconds) { break }
                Sys.sleep(milliseconds: 5)
            }
            if let tracer, o.backing != .anon {
                // Exact times from the tracepoints, relative to the marker.
                func allTimes() -> [Int: Double] {
                    var out: [Int: Double] = [:]
                    for (r, reg) in regions.enumerated() {
                        guard let name = reg.name else { continue }
                        let times = tracer.collapseTimes(afterMark: "thplab-eligible", objectName: name)
                        for e in 0..<o.extents { if let t = times[extentStart(r * o.extents + e)] { out[r * o.extents + e] = t } }
                    }
                    return out
                }
                var times = allTimes()
                let settle = Sys.monotonicNanoseconds() + 1_000_000_000
                while times.count < collapsedAt.count && Sys.monotonicNanoseconds() < settle {
                    Sys.sleep(milliseconds: 10)
                    times = allTimes()
                }
                if times.count >= collapsedAt.count && !times.isEmpty {
                    for g in collapsedAt.keys { if let t = times[g] { collapsedAt[g] = t * 1000 } }
                    latencySource = "tracepoints"
                }
            }
            var w = KhugepagedWait(boundSeconds: o.timeoutSeconds, waitedSeconds: (elapsed() * 1000).rounded() / 1000,
                                   extentsTotal: totalExtents, extentsCollapsed: collapsedAt.count,
                                   firstCollapseSeconds: collapsedAt.values.min().map { $0 / 1000 },
                                   lastCollapseSeconds: collapsedAt.count == totalExtents ? collapsedAt.values.max().map { $0 / 1000 } : nil,
                                   fullScans: scans, scanEvents: nil, collapseEvents: nil, lastScanResult: nil,
                                   visited: collapsedAt.isEmpty ? nil : true, verdict: "")
            w.khugepagedIdle = idle ? true : nil
            // The event counts come from the attributed events, below.
            w.verdict = KhugepagedWait.verdict(w)
            wait = w
        }
        // The events up to now, and the PFNs of the huge pages made.
        indexPFNs()
        tracer?.stop()
        let attribution = tracer.map { EventAttribution.attribute($0.events(), subject: subject) }
        if let attribution, let w = wait { wait = w.counted(from: attribution) }
        // Anonymous extents: collapse times from collapse_huge_page, against
        // the marker written just before MADV_HUGEPAGE.
        if let attribution, let tracer, latencySource == "polling", o.trigger == .khugepaged, !collapsedAt.isEmpty {
            let events = tracer.events()
            if let start = events.first(where: { $0.markText == ScanTracer.startMark })?.timestamp,
               let eligible = events.first(where: { $0.markText == "thplab-eligible" })?.timestamp {
                var times: [Int: Double] = [:]
                for g in collapsedAt.keys {
                    let ref = ExtentRef(object: g / o.extents, extent: g % o.extents)
                    if let made = attribution.byExtent[ref]?.first(where: ExtentDiagnosis.madeHugePage) {
                        times[g] = (made.t - (eligible - start)) * 1000
                    }
                }
                if times.count == collapsedAt.count {
                    collapsedAt = times
                    latencySource = "tracepoints"
                }
            }
        }
        // Touch each extent's first page: a collapsed shmem extent is then PMD-mapped.
        var outcomes: [ExtentOutcome] = []
        for e in 0..<o.extents { _ = region.madvise(.populateRead, offset: e * Self.huge, length: 4096) }
        for other in others { try other.host.refault() }
        // The classes after, per region: without PAGEMAP_SCAN, extents that
        // are one aligned huge folio are PMD- or PTE-mapped as smaps says.
        var after: [UInt: ClassCounts] = [:]
        for r in regions {
            let end = r.start + UInt(size)
            var outcome = try scanners[r.pid]!.scan(start: r.start, end: end)
            if !scanners[r.pid]!.useScan {
                let smapsPmd = SmapsParser.parse(FileIO.readIfPresent("/proc/\(r.pid)/smaps") ?? "")
                    .filter { $0.start < end && $0.end > r.start }.reduce(0) { $0 + $1.pmdMappedKB }
                _ = SnapshotTaker.resolveCandidates(&outcome, smapsPmdKB: smapsPmd)
            }
            for e in outcome.extents { after[e.start] = e.pages }
        }
        let blocker = ExpectationModel.collapseBlocker(context)
        let nodesAfter = countNodes ? NodeCounter.perExtent(pid: Sys.pid, start: region.start, extents: o.extents, map: nodeMap) : []
        for g in 0..<totalExtents {
            let ref = ExtentRef(object: g / o.extents, extent: g % o.extents)
            var facts = ExtentDiagnosis.Facts(collapsed: collapsedAt[g] != nil, trigger: o.trigger, errnoName: errnos[g],
                                              traced: attribution != nil, objectSeen: attribution?.saw(object: ref.object) ?? false,
                                              blocker: blocker, fullScans: wait?.fullScans,
                                              objectEvents: attribution?.byObject[ref.object] ?? [])
            facts.collapseTraced = o.backing == .anon || tracer?.formats["mm_khugepaged_collapse_file"] != nil
            outcomes.append(ExtentOutcome(pid: regions[g / o.extents].pid, start: extentStart(g), presentPages: o.present,
                                          collapsed: collapsedAt[g] != nil, latencyMs: collapsedAt[g].map { ($0 * 1000).rounded() / 1000 },
                                          errnoName: errnos[g], pagesAfter: after[extentStart(g)] ?? ClassCounts(),
                                          diagnosis: ExtentDiagnosis.diagnose(events: attribution?.byExtent[ref] ?? [], facts: facts),
                                          nodesBefore: g < nodesBefore.count ? NodeCounter.keyed(nodesBefore[g]) : nil,
                                          nodesAfter: g < nodesAfter.count ? NodeCounter.keyed(nodesAfter[g]) : nil))
        }
        let countersAfter = SystemCounters.read(sysfs: sysfs)
        let maxNone = Int(knobs["khugepaged/max_ptes_none"]?.current ?? "511") ?? 511
        let (perRegion, rule) = Self.expectation(o, context: context, maxPtesNone: maxNone,
                                                 maxPtesSwap: Int(knobs["khugepaged/max_ptes_swap"]?.current ?? "64") ?? 64)
        let expected = perRegion * regions.count
        var differences: [String] = []
        if !startedSmall { differences.append("the region was already on huge pages after populate: nothing to collapse") }
        if case .bind? = placement, let p = placementProblem { differences.append("placement: " + p) }
        var numa: NumaRunSummary?
        if countNodes {
            var byNode: [String: Int] = [:]
            for e in outcomes where e.collapsed {
                if let n = e.nodesAfter?.max(by: { $0.value < $1.value })?.key { byNode[n, default: 0] += 1 }
            }
            numa = NumaRunSummary(placement: placement?.description, placementHeld: placement.map { _ in placementProblem == nil },
                                  nodesBefore: topology.nodes, nodesAfter: NumaTopology.read().nodes, hugePagesByNode: byNode)
            if o.scenario == .numa {
                let aborted = outcomes.filter { $0.diagnosis?.events.contains { $0.result == "scan_aborted" } == true }.count
                notes.append("huge pages by node: " + byNode.sorted { $0.key < $1.key }.map { "node \($0.key): \($0.value)" }.joined(separator: ", ")
                             + (aborted > 0 ? "; \(aborted) extent(s) saw scan_aborted (pages too far apart, node_reclaim_mode)" : "; no scan_aborted"))
            }
        }
        let collapsed = outcomes.filter(\.collapsed).count
        if collapsed != expected {
            differences.append("\(collapsed) of \(totalExtents) extent(s) collapsed, expected \(expected): \(rule)" + (wait.map { "; khugepaged: \($0.verdict)" } ?? ""))
        }
        let pagesAfter = outcomes.reduce(ClassCounts()) { $0 + $1.pagesAfter }
        withExtendedLifetime(object) {}
        return RegionResult(scenario: o.scenario.rawValue, kernelRelease: release, options: o,
                            knobsBefore: knobsBefore.mapValues(\.current), knobsAfter: [:], knobsChanged: runKnobs.changes,
                            knobsInForce: knobs.mapValues(\.current), extents: outcomes, collapsed: collapsed, total: totalExtents,
                            coveragePercent: pagesAfter.coveragePercent,
                            latency: LatencyStats.of(outcomes.compactMap(\.latencyMs), extents: totalExtents, source: latencySource),
                            expectedCollapsed: expected, rule: rule + (o.scenario == .numa ? Self.numaRule : ""), khugepaged: wait,
                            trace: attribution.map { TraceSummary(formats: tracer!.formats, attribution: $0, lost: tracer!.lostEvents(), allEvents: o.allEvents) },
                            numa: numa,
                            deltas: countersAfter.delta(since: countersBefore), ok: differences.isEmpty,
                            differences: differences, notes: notes)
    }

    static let numaRule = "; the huge page is allocated on the first node holding most of the extent's pages (hpage_collapse_find_target_node(); nodes tied with it are only fallbacks, so a 256/256 split goes to the lower node, as measured on Debian's 6.1), and a scan gives up (scan_aborted) when the pages sit on nodes further apart than node_reclaim_distance while node_reclaim_mode is on"

    /// The effective `enabled` for PMD-sized anonymous THP.
    static func anonEnabled(_ knobs: [String: SysfsValue]) -> String? {
        let size = knobs["hugepages-2048kB/enabled"]?.current
        if let size, size != "inherit" { return size }
        return knobs["enabled"]?.current
    }
}

/// What a run saw of NUMA: the placement asked for and whether it held, and
/// each node's huge-page lines (node meminfo) before and after.
public struct NumaRunSummary: Codable, Sendable {
    public var placement: String?
    /// nil without a placement.
    public var placementHeld: Bool?
    public var nodesBefore: [NumaNode]
    public var nodesAfter: [NumaNode]
    /// Huge pages made, per node they landed on (extents collapsed).
    public var hugePagesByNode: [String: Int]

    enum CodingKeys: String, CodingKey {
        case placement, placementHeld = "placement_held", nodesBefore = "nodes_before", nodesAfter = "nodes_after"
        case hugePagesByNode = "huge_pages_by_node"
    }
}
