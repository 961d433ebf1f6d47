/// `thplab collapse`: MADV_COLLAPSE extent by extent inside other
/// processes through process_madvise(2) (6.1+). Plans from a before-view
/// first: extents that cannot succeed are not sent to the kernel. Then a
/// before/after diff says which became PMD-mapped.
public enum RemoteCollapse {
    public enum Target: Sendable {
        case range(UInt, UInt)
        case vma(UInt)
    }

    static let huge = UInt(PageGeometry.pmdSize)

    /// The 2 MiB extents to collapse: a range must be aligned and lie inside
    /// VMAs; a VMA gives every whole aligned extent inside it.
    public static func extents(for target: Target, vmas: [SmapsEntry]) throws -> (UInt, UInt) {
        try extents(for: target, spans: vmas.map { ($0.start, $0.end) })
    }

    static func extents(for target: Target, spans: [(UInt, UInt)]) throws -> (UInt, UInt) {
        switch target {
        case .range(let s, let e):
            guard s < e else { throw THPLabError.usage("--range \(hex(s))-\(hex(e)) is empty") }
            guard s % huge == 0, e % huge == 0 else {
                throw THPLabError.usage("--range \(hex(s))-\(hex(e)) is not 2 MiB aligned; MADV_COLLAPSE works on whole 2 MiB extents")
            }
            var cursor = s
            for v in spans.sorted(by: { $0.0 < $1.0 }) where v.1 > cursor && v.0 <= cursor {
                cursor = v.1
                if cursor >= e { break }
            }
            guard cursor >= e else {
                throw THPLabError.usage("--range \(hex(s))-\(hex(e)) is not inside the process's VMAs (no mapping at \(hex(cursor)))")
            }
            return (s, e)
        case .vma(let addr):
            guard let v = spans.first(where: { $0.0 <= addr && addr < $0.1 }) else {
                throw THPLabError.usage("no VMA contains \(hex(addr))")
            }
            let s = (v.0 + huge - 1) & ~(huge - 1), e = v.1 & ~(huge - 1)
            guard s < e else {
                throw THPLabError.usage("the VMA \(hex(v.0))-\(hex(v.1)) holds no whole 2 MiB-aligned extent")
            }
            return (s, e)
        }
    }

    public static func run(pid: Int32, target: Target) throws -> CollapseResult {
        try run(targets: [.pid(pid)], target: target, dryRun: false)
    }

    /// - Parameter target: a range or VMA of the one process named; nil
    ///   for every VMA of every process of the target.
    /// - Parameter measure: a command of the user's, run before the
    ///   collapse (it must succeed, or nothing is collapsed) and after it.
    public static func run(targets: [ProcessTarget], target: Target?, dryRun: Bool, measure: MeasureCommand? = nil) throws -> CollapseResult {
        let release = Sys.uname().release
        if let v = KernelVersion(release: release), v < KernelVersion(6, 1) {
            throw THPLabError.unsupported("kernel \(v) has no MADV_COLLAPSE (6.1+)")
        }
        let measuredBefore = dryRun ? nil : try measure.map(measureBefore)
        let t0 = Sys.monotonicNanoseconds()
        let before = try SnapshotTaker.take(targets: targets, system: false, withPages: false)
        guard !before.processes.allSatisfy({ $0.vmas.isEmpty }) else {
            throw THPLabError.usage("\(targets.map(\.description).joined(separator: " ")): no memory map (a kernel thread?)")
        }
        var (start, end) = (UInt(0), UInt.max)
        if let target, let p = before.processes.first {
            (start, end) = try extents(for: target, spans: p.vmas.map { ($0.start, $0.end) })
        }
        let rothp = KernelConfig.load(release: release).isSet("CONFIG_READ_ONLY_THP_FOR_FS")
        let cache = PageCacheProbe()
        let plan = before.processes.flatMap { p in
            CollapsePlanner.plan(p, start: start, end: end, .init(readOnlyThpForFS: rothp, thpEnabled: ProcStatus.thpEnabled(pid: p.pid)) { v, a in
                cache.presentPages(pid: p.pid, vmaStart: v.start, vmaEnd: v.end, offset: v.backing.offset + UInt64(a - v.start),
                                   length: UInt64(PageGeometry.pmdSize))
            })
        }
        let todo = plan.filter { $0.skip == nil }
        var r = CollapseResult(kernelRelease: release, pid: before.processes.first?.pid ?? 0, start: start == 0 ? (plan.first?.start ?? 0) : start,
                               end: end == .max ? (plan.last?.end ?? 0) : end, attempts: [], succeeded: 0, refused: 0,
                               diff: ProcessDiff.empty(pid: before.processes.first?.pid ?? 0))
        r.targets = targets.map(\.description)
        r.pids = before.processes.map(\.pid)
        r.dryRun = dryRun
        r.planned = todo.count
        r.skipped = CollapsePlanner.skipped(plan)
        r.notes = before.notes
        r.plan = CollapsePlanner.spans(todo)
        if dryRun {
            r.seconds = Double(Sys.monotonicNanoseconds() - t0) / 1e9
            return r
        }
        var attempts = try attempt(todo, release: release)
        let touched = Array(Set(todo.map(\.pid))).sorted()
        let after = touched.isEmpty ? nil : try? SnapshotTaker.take(targets: touched.map(ProcessTarget.pid), system: false, withPages: false)
        judge(&attempts, before: before, after: after)
        r.attempts = attempts
        r.refused = attempts.filter { $0.errno != 0 }.count
        r.succeeded = attempts.filter { $0.pmdMappedAfter == true }.count
        r.notPmdMapped = attempts.count - r.succeeded
        let diffs = Self.diffs(todo, before: before, after: after)
        r.diffs = diffs
        if let first = diffs.first { r.diff = first }
        r.seconds = Double(Sys.monotonicNanoseconds() - t0) / 1e9
        if let measure, let measuredBefore {
            r.measure = CollapseMeasure(command: measure.words, before: measuredBefore, after: try measure.run())
        }
        return r
    }

    /// The user's command before the collapse: it must succeed, or nothing
    /// is collapsed (exit 3).
    static func measureBefore(_ m: MeasureCommand) throws -> MeasureRun {
        let run = try m.run()
        guard run.exitCode == 0 else {
            throw THPLabError.unsupported("--measure: \(m.words.joined(separator: " ")) failed before the collapse (\(run.exitCode < 0 ? "" : "exit \(run.exitCode): ")\(run.errorLine ?? "no message")); nothing was collapsed")
        }
        return run
    }

    /// Each process's before/after diff, of the VMAs attempted only.
    static func diffs(_ todo: [PlannedExtent], before: SnapshotResult, after: SnapshotResult?) -> [ProcessDiff] {
        (after?.processes ?? []).compactMap { p in
            guard let b = before.processes.first(where: { $0.pid == p.pid }) else { return nil }
            var d = SnapshotDiff.diff(before: b, after: p)
            let mine = todo.filter { $0.pid == p.pid }
            d.vmas = d.vmas.filter { v in mine.contains { $0.start < v.end && v.start < $0.end } }
            return d
        }
    }

    /// process_madvise(MADV_COLLAPSE) on each planned extent.
    static func attempt(_ todo: [PlannedExtent], release: String) throws -> [ExtentAttempt] {
        var attempts: [ExtentAttempt] = []
        var gone = Set<Int32>()
        for x in todo where !gone.contains(x.pid) {
            switch Sys.result({ try Sys.processMadvise(pid: x.pid, address: x.start, length: Int(huge), .collapse) }) {
            case .success:
                attempts.append(ExtentAttempt(start: x.start, end: x.end, errno: 0, errnoName: nil, meaning: "collapsed (or already PMD-mapped)", pid: x.pid))
            case .failure(let e):
                if e == .notPermitted || e == .permissionDenied {
                    throw THPLabError.unsupported("process_madvise on pid \(x.pid) was refused (\(ErrnoName.of(e))): it needs ptrace access to the process and CAP_SYS_NICE (run as root)")
                }
                if e == .noSuchProcess { gone.insert(x.pid); continue }
                if e == .invalidArgument && attempts.isEmpty && !processMadviseCollapseWorks(release: release) {
                    throw THPLabError.unsupported("this kernel refuses MADV_COLLAPSE through process_madvise")
                }
                attempts.append(ExtentAttempt(start: x.start, end: x.end, errno: e.rawValue, errnoName: ErrnoName.of(e),
                                              meaning: meaning(of: e), pid: x.pid))
            }
        }
        return attempts
    }

    /// Whether each attempted extent is PMD-mapped now, and the specific
    /// cause of each failure where the views show it.
    static func judge(_ attempts: inout [ExtentAttempt], before: SnapshotResult, after: SnapshotResult?) {
        func extent(_ s: SnapshotResult?, _ pid: Int32?, _ a: UInt) -> (VmaCoverage, ExtentCoverage?)? {
            guard let p = s?.processes.first(where: { $0.pid == pid }),
                  let v = p.vmas.first(where: { $0.start <= a && a < $0.end }) else { return nil }
            return (v, v.extents.first { $0.start == a })
        }
        for i in attempts.indices {
            let a = attempts[i]
            let now = extent(after, a.pid, a.start)
            let pmd = now?.1?.pages.pmd ?? 0
            attempts[i].pmdMappedAfter = after == nil ? nil : pmd == PageGeometry.pagesPerPmd
            guard attempts[i].pmdMappedAfter != true else { continue }
            let was = extent(before, a.pid, a.start)?.1
            if now == nil { attempts[i].cause = "the VMA is gone from the process (unmapped meanwhile, or the process exited)"; continue }
            let nowPages = now?.1?.pages ?? ClassCounts()
            if a.errno == 0 {
                attempts[i].cause = "the kernel returned success, but the extent is not PMD-mapped here now (\(nowPages.pteThp) PTE-mapped THP, \(nowPages.small) small pages): the process changed it meanwhile, or the collapse raced its faults"
            } else if nowPages.anon > 0 && now?.0.kind != .anon {
                attempts[i].cause = "\(nowPages.anon) copy-on-write page(s) in the extent now"
            } else if a.errnoName == ErrnoName.eagain {
                attempts[i].cause = "transient (a page was locked or had an extra reference): run the collapse again"
            } else if let was, was.pages.resident < PageGeometry.pagesPerPmd, a.errnoName == ErrnoName.einval {
                attempts[i].cause = "only \(was.pages.resident) of \(PageGeometry.pagesPerPmd) pages were resident before; for shmem, MADV_COLLAPSE needs the pages it finds to be in the page cache"
            }
        }
    }

    /// On 6.1+ process_madvise accepts MADV_COLLAPSE; older kernels say EINVAL.
    static func processMadviseCollapseWorks(release: String) -> Bool {
        (KernelVersion(release: release) ?? KernelVersion(0, 0)) >= KernelVersion(6, 1)
    }

    /// What a MADV_COLLAPSE errno means (Documentation and mm/khugepaged.c).
    public static func meaning(of e: Errno) -> String {
        switch e {
        case .noMemory: return "no huge page could be allocated (memory fragmented or exhausted)"
        case .resourceBusy: return "the memory cgroup charge failed, or a scan limit was hit"
        case .resourceTemporarilyUnavailable: return "transient: a page was locked, on an LRU list elsewhere or had an extra reference; try again"
        case .invalidArgument: return "not eligible: VM_NOHUGEPAGE, misaligned address/offset, a regular file without CONFIG_READ_ONLY_THP_FOR_FS, anonymous copy-on-write pages in a file range, or an unsupported mapping"
        case .badAddress: return "the range is not (fully) mapped"
        default: return "unexpected"
        }
    }
}

import SystemPackage

func hex(_ v: UInt) -> String { "0x" + String(v, radix: 16) }
