import FoundationEssentials

/// Takes `thplab snapshot`: every VMA of each process classified page by
/// page, checked against smaps, and the system-wide counters.
public enum SnapshotTaker {
    /// - Parameter numa: read numa_maps (pages per node, per VMA); by
    ///   default only on a host with more than one node, since the kernel
    ///   walks the page tables again for it.
    public static func take(pids: [Int32], system: Bool, withPages: Bool, numa: Bool? = nil) throws -> SnapshotResult {
        try take(target: nil, pids: pids, system: system, withPages: withPages, numa: numa)
    }

    /// A snapshot of every process a target resolved to. A process that
    /// exits or cannot be read is named in one note, never fatal, unless
    /// no process at all could be read. With several processes, the result
    /// has per-cgroup and whole-target totals; with `objects`, the objects
    /// they share (which needs the per-page classes).
    public static func take(targets: [ProcessTarget], system: Bool, withPages: Bool, numa: Bool? = nil,
                            objects: Bool = false) throws -> SnapshotResult {
        let resolved = try ProcessTargets.resolve(targets)
        var r = try take(target: resolved, pids: resolved.pids, system: system, withPages: withPages || objects, numa: numa)
        if objects {
            r.objects = SharedObjects.find(in: r.processes)
            // The letters were only wanted for the object view.
            if !withPages { r.processes = r.processes.map(dropPageLetters) }
        }
        if targets.count > 1 || targets.contains(where: \.isWide) {
            r.rollup = TargetRollup(targets: targets.map(\.description), processes: r.processes, unread: r.rollup?.unread ?? [])
        }
        return r
    }

    static func take(target: ResolvedTargets?, pids: [Int32], system: Bool, withPages: Bool, numa: Bool?) throws -> SnapshotResult {
        let topology = NumaTopology.read()
        let withNuma = numa ?? (topology.nodes.count > 1)
        var processes: [ProcessCoverage] = []
        var unread: [UnreadProcess] = []
        var firstError: Error?
        let nodeMap = withNuma ? PfnNodeMap.read(nodes: topology.nodes.map(\.node)) : nil
        for pid in pids {
            do {
                var p = try process(pid: pid, withPages: withPages, nodeMap: nodeMap)
                p.cgroup = target?.cgroups[pid]
                // One process asked for by pid is shown whatever it is.
                if target == nil || pids.count == 1 { processes.append(p); continue }
                // A process without a map (exited, a zombie, a kernel thread) is noted.
                if let gone = p.notes.first(where: { $0.hasPrefix("no memory map") }) {
                    unread.append(UnreadProcess(pid: pid, reason: gone.contains("exited") ? "exited" : "no memory map")); continue
                }
                if p.vmas.isEmpty && !p.complete { unread.append(UnreadProcess(pid: pid, reason: "exited")); continue }
                processes.append(p)
            } catch {
                // One process named by --pid alone: its error is the answer.
                if target == nil || pids.count == 1 { throw error }
                firstError = firstError ?? error
                let reason = (error as? THPLabError).map { $0.kind == .usage ? "exited" : "unreadable (\($0.message))" } ?? "\(error)"
                unread.append(UnreadProcess(pid: pid, reason: reason))
            }
        }
        if processes.isEmpty, let firstError {
            guard pids.count > 1, let e = firstError as? THPLabError else { throw firstError }
            throw THPLabError(e.kind, "none of the \(pids.count) processes of the target could be read (the first: \(e.message))", errno: e.errno)
        }
        var r = SnapshotResult(kernelRelease: Sys.uname().release, takenAt: Date().timeIntervalSince1970,
                               processes: processes, system: system ? SystemCounters.read() : nil, notes: target?.notes ?? [])
        if system || withNuma { r.numa = topology }
        if !unread.isEmpty {
            r.rollup = TargetRollup(targets: [], processes: processes, unread: unread)
            r.notes.append(r.rollup!.unreadNote!)
        }
        return r
    }

    static func dropPageLetters(_ p: ProcessCoverage) -> ProcessCoverage {
        var p = p
        for i in p.vmas.indices { for j in p.vmas[i].extents.indices { p.vmas[i].extents[j].pageClasses = nil } }
        return p
    }

    /// Classifies every VMA of one process. A process that exits half way
    /// gives what was read, marked incomplete.
    /// - Parameter nodeMap: with one, each VMA gets its numa_maps figures and
    ///   each extent the nodes of its pages.
    ///   workers: scan threads at most (1: the single-threaded path); by
    ///   default the CPUs this process may use.
    public static func process(pid: Int32, withPages: Bool, nodeMap: PfnNodeMap? = nil, proc: ProcFS = .host,
                               workers: Int? = nil) throws -> ProcessCoverage {
        let mapsText = try proc.maps(pid)
        var result = ProcessCoverage(pid: pid, comm: proc.comm(pid), vmas: [], totals: ClassCounts(), totalsKB: [:],
                                     coveragePercent: 0, pfnsVisible: true, method: "pagemap", complete: true, notes: [])
        // The VMA list from maps; smaps (whose page-table walk costs as much
        // as the scan itself) is read and parsed on another thread meanwhile.
        let entries = SmapsParser.parse(mapsText)
        if entries.isEmpty {
            result.notes.append("no memory map: \(proc.exists(pid) ? "a kernel thread (no mm)" : "the process exited"); skipped")
            result.totalsKB = result.totals.kb()
            return result
        }
        let smapsByStart = FileIO.readInBackground(proc.path(pid, "smaps"), limit: 256 << 20) { text in
            Dictionary(SmapsParser.parse(text ?? "").map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a })
        }
        let numaMaps = nodeMap != nil ? NumaMaps.parse(proc.read(pid, "numa_maps") ?? "") : [:]
        let scan = try ParallelScan.scan(entries, workers: workers ?? ParallelScan.defaultWorkers) { try VmaScanner(pid: pid, withPages: withPages, proc: proc) }
        result.method = scan.seen.useScan ? "pagemap_scan" : "pagemap"
        if let (entry, error) = scan.failure {
            result.complete = false
            result.notes.append(proc.exists(pid) ? "stopped at VMA \(String(entry.start, radix: 16)): \(error)"
                                    : "the process exited during the snapshot: what was read is shown")
        }
        let scanned = scan.scanned
        let smaps = smapsByStart()
        var inferred = 0
        for (mapped, scannedOutcome) in scanned {
            var outcome = scannedOutcome
            // smaps of the same VMA (its figures), or the maps line alone if
            // the VMA changed meanwhile: the cross-check will say so.
            let entry = smaps[mapped.start].flatMap { $0.end == mapped.end ? $0 : nil } ?? mapped
            if entry.kb("KernelPageSize") > PageGeometry.pageKB {
                result.notes.append("\(String(entry.start, radix: 16)) \(entry.name): hugetlb VMA (\(entry.kb("KernelPageSize")) kB pages), not THP; skipped")
                continue
            }
            if !scan.seen.useScan { inferred += resolveCandidates(&outcome, smapsPmdKB: entry.pmdMappedKB) }
            if let nodeMap { countNodes(&outcome, pid: pid, map: nodeMap) }
            let vma = coverage(entry, outcome, numa: numaMaps[entry.start])
            result.totals += vma.pages
            result.vmas.append(vma)
        }
        finish(&result, seen: scan.seen, inferred: inferred)
        return result
    }

    private static func countNodes(_ outcome: inout VmaScanner.Outcome, pid: Int32, map: PfnNodeMap) {
        for i in outcome.extents.indices where outcome.extents[i].pages.resident > 0 {
            let e = outcome.extents[i]
            outcome.extents[i].nodes = NodeCounter.keyed(NodeCounter.count(pid: pid, start: e.start, end: e.end, map: map))
        }
    }

    private static func coverage(_ entry: SmapsEntry, _ outcome: VmaScanner.Outcome, numa: NumaMapsEntry?) -> VmaCoverage {
        let c = outcome.counts
        return VmaCoverage(
            start: entry.start, end: entry.end, permissions: entry.permissions,
            backing: VmaBacking(name: entry.name, device: entry.device, inode: entry.inode, offset: entry.offset),
            kind: kind(of: entry), pages: c, kb: c.kb(), coveragePercent: c.coveragePercent, smaps: entry.fields,
            vmFlags: entry.vmFlags, thpEligible: entry.thpEligible,
            crosscheck: CrossCheck(pageTablesPmdKB: c.pmd * PageGeometry.pageKB, smapsPmdKB: entry.pmdMappedKB),
            extents: outcome.extents, numa: numa)
    }

    /// Totals and the notes that explain how the figures were read.
    private static func finish(_ result: inout ProcessCoverage, seen: ParallelScan.Seen, inferred: Int) {
        result.totalsKB = result.totals.kb()
        result.coveragePercent = result.totals.coveragePercent
        result.pfnsVisible = seen.sawPFN || !seen.sawPresent
        if !result.pfnsVisible {
            result.notes.append("PFNs are hidden (no CAP_SYS_ADMIN): PTE-mapped THPs and mTHPs cannot be told from small pages and are counted as small; pmd comes from PAGEMAP_SCAN")
        }
        if !seen.useScan {
            result.notes.append("no PAGEMAP_SCAN (6.7+): PMD mappings were inferred from smaps for \(inferred) extent(s) fully covered by one PMD-sized folio")
        }
        let mismatched = result.vmas.filter { !$0.crosscheck.agree }
        if !mismatched.isEmpty {
            result.notes.append("\(mismatched.count) VMA(s) where page tables and smaps disagree on PMD-mapped kB (the process was probably changing its memory during the snapshot): " +
                                mismatched.prefix(5).map { "\(String($0.start, radix: 16)) \($0.crosscheck.pageTablesPmdKB) vs \($0.crosscheck.smapsPmdKB) kB" }.joined(separator: ", "))
        }
    }

    /// Without PAGEMAP_SCAN, extents fully covered by one aligned PMD-sized
    /// folio are PMD- or PTE-mapped; smaps' PMD-mapped total says how many
    /// are PMD-mapped. Returns how many were turned to `pmd`.
    static func resolveCandidates(_ o: inout VmaScanner.Outcome, smapsPmdKB: Int) -> Int {
        let n = min(o.candidates.count, smapsPmdKB / 2048)
        for idx in o.candidates.prefix(n) {
            let pages = o.extents[idx].pages.pteThp
            o.extents[idx].pages.pteThp = 0
            o.extents[idx].pages.pmd = pages
            o.extents[idx].pageClasses = o.extents[idx].pageClasses.map { String(repeating: "P", count: $0.count) }
            o.counts.pteThp -= pages
            o.counts.pmd += pages
        }
        return n
    }

    /// `anon`, `shmem` (memfd, SysV, /dev/shm, shared anonymous) or `file`.
    static func kind(of e: SmapsEntry) -> VmaKind {
        if e.inode == 0 { return .anon }
        return ShmemNames.isShmem(e.name) ? .shmem : .file
    }
}
