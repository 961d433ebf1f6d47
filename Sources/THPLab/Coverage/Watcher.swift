import Dispatch
import Glibc
import FoundationEssentials
import SystemPackage

/// Follows one process's THP coverage over time. Each tick is cheap: the
/// VMA list from /proc/PID/maps and one PAGEMAP_SCAN walk of each VMA
/// (PMD-mapped, resident and swapped pages), or smaps_rollup where the
/// kernel has no PAGEMAP_SCAN. The first and the last sample, and every
/// `fullEvery`-th one if asked, also classify every page as `snapshot` does.
public final class Watcher {
    public let pid: Int32
    public let intervalMs: Int
    public let fullEvery: Int

    public init(pid: Int32, intervalMs: Int, fullEvery: Int) throws {
        self.pid = pid
        self.intervalMs = intervalMs
        self.fullEvery = fullEvery
        // The scanner opens pagemap (with clear errors) and probes PAGEMAP_SCAN.
        scanner = try VmaScanner(pid: pid, withPages: false)
    }

    /// Watches every process of a target; each sample sums them. A process
    /// that exits drops out (named in the result's notes); the watch ends
    /// when none is left.
    public static func group(targets: [ProcessTarget], intervalMs: Int, fullEvery: Int) throws -> WatchGroup {
        let resolved = try ProcessTargets.resolve(targets)
        var watchers: [Watcher] = []
        var notes = resolved.notes
        var firstError: Error?
        for p in resolved.pids {
            do { watchers.append(try Watcher(pid: p, intervalMs: intervalMs, fullEvery: fullEvery)) } catch {
                firstError = firstError ?? error
                notes.append("pid \(p) not watched: \(error)")
            }
        }
        if watchers.isEmpty { throw firstError ?? THPLabError.usage("\(targets.map(\.description).joined(separator: " ")): no process to watch") }
        return WatchGroup(watchers: watchers, notes: notes, intervalMs: intervalMs)
    }

    private let scanner: VmaScanner
    private let proc = ProcFS.host
    private var pagemap: FileDescriptor { scanner.pagemap }
    private var useScan: Bool { scanner.useScan }
    var method: String { useScan ? "pagemap_scan" : "smaps_rollup" }

    /// One cheap sample; nil when the process is gone.
    public func quickSample(t: Double) -> WatchSample? {
        // An empty map: the process exited (a zombie) or is a kernel thread.
        guard let maps = proc.read(pid, "maps"), !maps.isEmpty else { return nil }
        var total = Residency()
        if useScan {
            guard let walked = walk(maps) else { return nil }
            total = walked
        } else {
            guard let rollup = proc.read(pid, "smaps_rollup") else { return nil }
            let e = SmapsParser.parse(rollup).first
            total = Residency(residentKB: e?.rssKB ?? 0, pmdKB: e?.pmdMappedKB ?? 0, swappedKB: e?.kb("Swap") ?? 0)
        }
        let cov = total.residentKB == 0 ? 0 : (Double(total.pmdKB) * 1000 / Double(total.residentKB)).rounded() / 10
        return WatchSample(t: t, residentKB: total.residentKB, pmdKB: total.pmdKB, swappedKB: total.swappedKB,
                           coveragePercent: cov, classesKB: nil)
    }

    typealias Vma = MapsList.Entry

    /// Residency of every VMA of `maps`, by the walk that skips present
    /// small pages (VMAs of a PMD or more), then the VMA list read again:
    /// a VMA not the same in both (mapped, unmapped, moved, split or merged
    /// meanwhile) is walked again by the positive walk, which silence
    /// cannot mislead. One case is left: a VMA unmapped during its walk
    /// and mapped again the same before the second read; the probe of a
    /// silent range narrows it to the microseconds between the walk and
    /// the probe. Nil when the process is gone.
    private func walk(_ maps: String) -> Residency? {
        func residency(_ v: Vma, positive: Bool) -> Residency? {
            do { return try PagemapScan.residency(fd: pagemap, start: v.start, end: v.end, positive: positive) } catch {
                return proc.exists(pid) ? Residency() : nil
            }
        }
        let before = MapsList.parse(maps)
        var tallies: [Residency] = []
        tallies.reserveCapacity(before.count)
        for v in before {
            // A VMA smaller than a PMD has no PMD mapping, and its walk is
            // short either way: the positive one needs no probe.
            guard let r = residency(v, positive: v.end - v.start < UInt64(PageGeometry.pmdSize)) else { return nil }
            tallies.append(r)
        }
        guard let again = proc.read(pid, "maps"), !again.isEmpty else { return nil }
        if again == maps { return tallies.reduce(into: Residency()) { $0 += $1 } }
        return Self.reconcile(before: before, tallies: tallies, after: MapsList.parse(again)) { residency($0, positive: true) }
    }

    /// The residency of the VMAs of `after`: each found the same in `before`
    /// (by its whole line) counts its tally there, the others what `walk`
    /// says of them (nil: the process is gone). Both lists are in address
    /// order, as /proc/PID/maps gives them.
    static func reconcile(before: [Vma], tallies: [Residency], after: [Vma], walk: (Vma) -> Residency?) -> Residency? {
        var total = Residency()
        var i = 0
        for v in after {
            while i < before.count && before[i].start < v.start { i += 1 }
            if i < before.count && before[i].line.utf8.elementsEqual(v.line.utf8) {
                total += tallies[i]
            } else {
                guard let r = walk(v) else { return nil }
                total += r
            }
        }
        return total
    }

    /// Calls `sample(t, tick)` every `intervalMs` (t in seconds since `t0`,
    /// to the ms) until it returns false (`process exited`), `stop()` says
    /// so (`interrupted`) or `duration` passes (`duration`).
    static func loop(t0: UInt64, intervalMs: Int, duration: Double?, stop: () -> Bool,
                     _ sample: (Double, Int) -> Bool) -> String {
        var tick = 0
        while true {
            let t = (Double(Sys.monotonicNanoseconds() - t0) / 1e6).rounded() / 1000
            guard sample(t, tick) else { return "process exited" }
            tick += 1
            // Sleep to the next tick in small steps, so Ctrl-C is prompt.
            let next = t0 + UInt64(tick) * UInt64(intervalMs) * 1_000_000
            while Sys.monotonicNanoseconds() < next && !stop() { Sys.sleep(milliseconds: min(20, intervalMs)) }
            if stop() { return "interrupted" }
            if let duration, Double(Sys.monotonicNanoseconds() - t0) / 1e9 >= duration { return "duration" }
        }
    }

    /// Samples until `duration` seconds pass, `stop()` returns true, or the
    /// process exits. `show` sees every sample as it is taken.
    public func run(duration: Double?, stop: () -> Bool, show: (WatchSample) -> Void) -> WatchResult {
        let comm = proc.comm(pid)
        let t0 = Sys.monotonicNanoseconds()
        let started = Date().timeIntervalSince1970
        var samples: [WatchSample] = []
        func classify(_ s: inout WatchSample) {
            if let full = try? SnapshotTaker.process(pid: pid, withPages: false) {
                s.classesKB = full.totals.kb()
                s.mthpSizesKB = full.totals.mthpSizesKB
            }
        }
        let ended = Self.loop(t0: t0, intervalMs: intervalMs, duration: duration, stop: stop) { t, tick in
            guard var s = quickSample(t: t) else { return false }
            if tick == 0 || (fullEvery > 0 && tick % fullEvery == 0) { classify(&s) }
            samples.append(s)
            show(s)
            return true
        }
        // The last sample gets the full classes too, for a before/after.
        if var last = samples.last, last.classesKB == nil, proc.exists(pid) {
            classify(&last)
            samples[samples.count - 1] = last
        }
        return WatchResult(kernelRelease: Sys.uname().release, pid: pid, comm: comm, intervalMs: intervalMs,
                           startedAt: started, samples: samples, ended: ended, method: useScan ? "pagemap_scan" : "smaps_rollup")
    }
}

/// Several watchers sampled together: their samples are summed.
public final class WatchGroup {
    let watchers: [Watcher]
    var notes: [String]
    let intervalMs: Int

    init(watchers: [Watcher], notes: [String], intervalMs: Int) {
        self.watchers = watchers
        self.notes = notes
        self.intervalMs = intervalMs
    }

    public func run(duration: Double?, stop: () -> Bool, show: (WatchSample) -> Void) -> WatchResult {
        if watchers.count == 1 {
            var r = watchers[0].run(duration: duration, stop: stop, show: show)
            if !notes.isEmpty { r.notes = notes }
            return r
        }
        var alive = watchers
        let t0 = Sys.monotonicNanoseconds()
        let started = Date().timeIntervalSince1970
        var samples: [WatchSample] = []
        let ended = Watcher.loop(t0: t0, intervalMs: intervalMs, duration: duration, stop: stop) { t, _ in
            var sum = WatchSample(t: t, residentKB: 0, pmdKB: 0, swappedKB: 0, coveragePercent: 0, classesKB: nil)
            alive = alive.filter { w in
                guard let s = w.quickSample(t: t) else { notes.append("pid \(w.pid) exited at \(t) s"); return false }
                sum.residentKB += s.residentKB; sum.pmdKB += s.pmdKB; sum.swappedKB += s.swappedKB
                return true
            }
            if alive.isEmpty { return false }
            sum.coveragePercent = sum.residentKB == 0 ? 0 : (Double(sum.pmdKB) * 1000 / Double(sum.residentKB)).rounded() / 10
            samples.append(sum)
            show(sum)
            return true
        }
        var r = WatchResult(kernelRelease: Sys.uname().release, pid: watchers[0].pid, comm: "\(watchers.count) processes", intervalMs: intervalMs,
                            startedAt: started, samples: samples, ended: ended, method: watchers[0].method)
        r.pids = watchers.map(\.pid)
        r.notes = notes.isEmpty ? nil : notes
        return r
    }
}

/// A flag set by SIGINT/SIGTERM, for commands that stop cleanly on Ctrl-C.
public final class InterruptFlag: @unchecked Sendable {
    private let lock = Lock()
    private var raised = false
    private var sources: [DispatchSourceSignal] = []

    public init() {
        for sig in [SIGINT, SIGTERM] {
            Sys.ignoreSignal(sig)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in self?.raise() }
            s.resume()
            sources.append(s)
        }
    }

    private func raise() { lock.lock(); raised = true; lock.unlock() }
    public var isRaised: Bool { lock.lock(); defer { lock.unlock() }; return raised }
}
