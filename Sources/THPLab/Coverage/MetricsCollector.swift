import FoundationEssentials

/// One scrape for `thplab export`: a snapshot of the target without per-page
/// letters or NUMA (the cheapest exact reading), each VMA judged as
/// `explain` judges it, and the system counters. Reads only: a scrape changes
/// nothing on the host. A process that exits or cannot be read is left out
/// and counted; no process error fails the scrape.
public enum MetricsCollector {
    public static func collect(targets: [ProcessTarget], top: Int, sysfs: THPSysfs = THPSysfs(),
                               proc: ProcFS = .host) throws -> MetricsSample {
        let clock = ContinuousClock()
        let started = clock.now
        let release = Sys.uname().release
        let knobs = sysfs.readAll().mapValues(\.current)
        var leftOut: [String: Int] = [:]
        var processes: [ProcessCoverage] = []
        if !targets.isEmpty {
            let resolved = try resolve(targets)
            do {
                let snapshot = try SnapshotTaker.take(target: resolved, pids: resolved.pids, system: false, withPages: false, numa: false)
                for u in snapshot.rollup?.unread ?? [] { leftOut[leftOutReason(u.reason), default: 0] += 1 }
                for p in snapshot.processes {
                    // Gone before or while it was read: its figures would be partial.
                    if !p.complete || p.notes.contains(where: { $0.hasPrefix("no memory map") }) {
                        leftOut["exited", default: 0] += 1
                    } else {
                        processes.append(p)
                    }
                }
            } catch let e as THPLabError {
                // Only when no process at all could be read.
                let reason = resolved.pids.allSatisfy { !proc.exists($0) } ? "exited" : (e.kind == .usage ? "exited" : "unreadable")
                leftOut[reason, default: 0] += resolved.pids.count
            }
        }
        let rows = processes.map { row($0, context: hostContext($0.pid, knobs: knobs, release: release)) }
        var gaps: [MetricsSample.Gap: String] = [:]
        let sysAdmin = (try? Sys.hasEffectiveSysAdmin()) ?? false
        if !sysAdmin || processes.contains(where: { !$0.pfnsVisible }) {
            gaps[.pfns] = "no CAP_SYS_ADMIN: PFNs are hidden, so PTE-mapped THPs and mTHPs are counted as small"
        }
        if let n = leftOut["unreadable"], n > 0 {
            gaps[.processes] = "\(n) process(es) of the target could not be read (another user's, without CAP_SYS_PTRACE)"
        }
        if !sysfs.isPresent { gaps[.sysfs] = "no \(sysfs.root): this kernel has no THP" }
        let system = SystemCounters.read(sysfs: sysfs)
        let elapsed = clock.now - started
        return MetricsSample(kernelRelease: release, targets: targets.map(\.description),
                             rows: MetricsSample.keepTop(rows, top: top), system: system, knobs: knobs,
                             processesRead: processes.count, processesLeftOut: leftOut, gaps: gaps,
                             durationSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Each target on its own, so that a `--comm` without a process right
    /// now (a service restarting) leaves the others; a `--cgroup` that does
    /// not exist is an error.
    static func resolve(_ targets: [ProcessTarget]) throws -> ResolvedTargets {
        var merged = ResolvedTargets(pids: [], cgroups: [:], notes: [])
        var seen = Set<Int32>()
        for t in targets {
            let one: ResolvedTargets
            do {
                one = try ProcessTargets.resolve([t])
            } catch let e as THPLabError where e.kind == .usage {
                if case .comm = t { continue }
                throw e
            }
            for p in one.pids where seen.insert(p).inserted { merged.pids.append(p) }
            merged.cgroups.merge(one.cgroups) { a, _ in a }
            merged.notes += one.notes
        }
        return merged
    }

    static func leftOutReason(_ snapshotReason: String) -> String {
        snapshotReason == "exited" || snapshotReason == "no memory map" ? "exited" : "unreadable"
    }

    /// What `explain` knows of the host and the process, for its rules.
    static func hostContext(_ pid: Int32, knobs: [String: String], release: String) -> Explainer.Context {
        let mounts = hostConfig.mounts()
        return Explainer.Context(knobs: knobs, readOnlyThpForFS: hostConfig.readOnlyThpForFS(release),
                                 mountHuge: { MountTable.hugeOption(of: $0, mountsText: mounts) },
                                 thpEnabled: ProcStatus.thpEnabled(pid: pid))
    }

    /// A process's figures, with the memory each blocker holds back.
    public static func row(_ p: ProcessCoverage, context ctx: Explainer.Context) -> MetricsSample.Row {
        var blocked: [BlockerKind: Int] = [:]
        for v in p.vmas { blocked.merge(Explainer.explain(v, ctx).heldBackKB, uniquingKeysWith: +) }
        return MetricsSample.Row(pid: p.pid, comm: p.comm, cgroup: p.cgroup ?? "", pages: p.totals,
                                 smapsPmdKB: p.vmas.reduce(0) { $0 + $1.crosscheck.smapsPmdKB }, blockedKB: blocked.filter { $0.value > 0 })
    }

    /// The kernel config and the mount table, read once per scrape at most.
    static let hostConfig = HostConfigCache()
}

/// The kernel's CONFIG_READ_ONLY_THP_FOR_FS (fixed for the kernel's life)
/// and /proc/mounts (read again after a second), for the blocker rules.
final class HostConfigCache: @unchecked Sendable {
    private let lock = Lock()
    private var rothp: (release: String, value: Bool?)?
    private var mountsText: (at: Date, text: String)?

    func readOnlyThpForFS(_ release: String) -> Bool? {
        lock.lock(); defer { lock.unlock() }
        if let r = rothp, r.release == release { return r.value }
        let v = KernelConfig.load(release: release).isSet("CONFIG_READ_ONLY_THP_FOR_FS")
        rothp = (release, v)
        return v
    }

    func mounts() -> String {
        lock.lock(); defer { lock.unlock() }
        if let m = mountsText, Date().timeIntervalSince(m.at) < 1 { return m.text }
        let text = ProcFS.host.read("mounts") ?? ""
        mountsText = (Date(), text)
        return text
    }
}
