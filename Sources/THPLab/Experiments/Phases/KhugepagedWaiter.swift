
/// Waits, within a bound, for khugepaged to collapse every extent of a
/// region set, reading each extent's page classes every `pollMilliseconds`
/// (`CollapseSignal` says what a collapsed extent looks like). Without an
/// expected collapse it still waits long enough to see khugepaged pass over
/// its list twice, or sit idle, but never longer than the bound. The one
/// waiter of every experiment that triggers khugepaged.
struct KhugepagedWaiter {
    static let pollMilliseconds = 5

    let reader: ExtentReader
    let signal: CollapseSignal
    let sysfs: THPSysfs
    let boundSeconds: Int
    let tracer: ScanTracer?

    /// When each extent was seen collapsed, in seconds from `since`, and what
    /// the wait showed.
    struct Outcome {
        var collapsedAt: [Int: Double]
        var wait: KhugepagedWait
    }

    /// - Parameter since: the monotonic time the clock starts at (just
    ///   before MADV_HUGEPAGE: khugepaged may collapse an extent before the
    ///   call even returns).
    func wait(expectCollapse: Bool, since t0: UInt64 = Sys.monotonicNanoseconds(),
              progress: (ExperimentProgress) -> Void) throws -> Outcome {
        let total = reader.regions.count
        let scans0 = sysfs.number(.fullScans) ?? 0
        func elapsed() -> Double { Double(Sys.monotonicNanoseconds() - t0) / 1e9 }
        var collapsedAt: [Int: Double] = [:]
        var idle = false
        var scans: Int64 = 0
        while true {
            for g in 0..<total where collapsedAt[g] == nil {
                if signal.collapsed(try reader.counts(g)) { collapsedAt[g] = elapsed() }
            }
            scans = (sysfs.number(.fullScans) ?? 0) - scans0
            progress(.waiting(elapsed: elapsed(), bound: boundSeconds, fullScans: scans, collapsed: collapsedAt.count, total: total))
            if collapsedAt.count == total { break }
            if !expectCollapse && scans >= 2 { break }
            if !expectCollapse && scans == 0 && elapsed() >= ScanTracer.idleSeconds && tracer?.khugepagedSilent() == true {
                idle = true
                break
            }
            if elapsed() >= Double(boundSeconds) { break }
            Sys.sleep(milliseconds: Self.pollMilliseconds)
        }
        let waited = elapsed()
        let counts = signal == .pagesUnmapped ? settledCounts(collapsed: collapsedAt.count) : tracer?.counts()
        var w = KhugepagedWait(boundSeconds: boundSeconds, waitedSeconds: (waited * 1000).rounded() / 1000,
                               extentsTotal: total, extentsCollapsed: collapsedAt.count,
                               firstCollapseSeconds: collapsedAt.values.min(),
                               lastCollapseSeconds: collapsedAt.count == total ? collapsedAt.values.max() : nil,
                               fullScans: scans, scanEvents: counts?.scans, collapseEvents: counts?.collapses,
                               lastScanResult: counts?.lastScanResult, visited: nil, verdict: "")
        w.khugepagedIdle = idle ? true : nil
        if let counts {
            w.visited = counts.scans + counts.collapses > 0 || !collapsedAt.isEmpty
        } else if !collapsedAt.isEmpty {
            w.visited = true
        }
        w.verdict = KhugepagedWait.verdict(w)
        return Outcome(collapsedAt: collapsedAt, wait: w)
    }

    /// collapse_file() emits its event after it unmapped the old pages,
    /// which is what the loop sees: the trace gets a second to catch up.
    private func settledCounts(collapsed: Int) -> ScanTracer.Counts? {
        guard let tracer else { return nil }
        var counts = tracer.counts()
        let settle = Sys.monotonicNanoseconds() + 1_000_000_000
        while counts.collapses < collapsed && Sys.monotonicNanoseconds() < settle {
            Sys.sleep(milliseconds: 10)
            counts = tracer.counts()
        }
        return counts
    }
}

extension KhugepagedWait {
    /// One line saying what the wait showed, telling "never looked" from
    /// "looked and did not collapse".
    static func verdict(_ w: KhugepagedWait) -> String {
        let t = String(cFormat: "%.2f", w.waitedSeconds)
        if w.extentsCollapsed == w.extentsTotal {
            let first = w.firstCollapseSeconds.map { String(cFormat: "%.2f", $0) } ?? "?"
            return "collapsed all \(w.extentsTotal) extent(s) in \(String(cFormat: "%.2f", w.lastCollapseSeconds ?? w.waitedSeconds)) s (first after \(first) s; \(w.fullScans) full scan(s))"
        }
        let partial = w.extentsCollapsed > 0 ? "collapsed \(w.extentsCollapsed) of \(w.extentsTotal) extent(s)" : "collapsed nothing"
        switch w.visited {
        case true?:
            let result = w.lastScanResult.map { " (last scan result \(ScanResultMeaning.of($0)))" } ?? ""
            return "khugepaged looked at the object (\(w.scanEvents ?? 0) scan event(s)) but \(partial) in \(t) s\(result)"
        case false?:
            if w.khugepagedIdle == true {
                return "khugepaged never looked at the object in \(t) s: it was idle (no event for any process, full_scans still) for \(Int(ScanTracer.idleSeconds)) s, so its list was empty and this process was never added; the wait ended early"
            }
            return "khugepaged never looked at the object in \(t) s (\(w.fullScans) full scan(s) of its list, no scan event for this file): the process was not on its list or the VMA was not eligible"
        case nil:
            return "\(partial) in \(t) s with \(w.fullScans) full scan(s) of khugepaged's list; without tracepoints it cannot be told whether it looked at the object"
        }
    }
}

extension KhugepagedWait {
    /// The wait with its event counts taken from the attributed events: only
    /// the experiment's own, anonymous ones included.
    func counted(from a: EventAttribution) -> KhugepagedWait {
        var w = self
        let ours = (a.byExtent.values.flatMap { $0 } + a.byObject.values.flatMap { $0 }).sorted { ($0.tLast ?? $0.t) < ($1.tLast ?? $1.t) }
        let scans = ours.filter { ExtentDiagnosis.scanEvents.contains($0.event) }
        w.scanEvents = scans.reduce(0) { $0 + ($1.count ?? 1) }
        w.collapseEvents = ours.filter { ExtentDiagnosis.collapseEvents.contains($0.event) }.reduce(0) { $0 + ($1.count ?? 1) }
        w.lastScanResult = scans.last?.result
        w.visited = !ours.isEmpty || w.extentsCollapsed > 0
        w.verdict = KhugepagedWait.verdict(w)
        return w
    }
}
