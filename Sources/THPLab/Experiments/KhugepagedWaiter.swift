import Foundation

/// Waits, within a bound, for khugepaged to collapse the object, watching
/// the trigger process's shared mapping: collapse_file() unmaps the old small
/// pages from every mapping, so an extent whose pages are all gone from a
/// fully populated mapping has been collapsed.
struct KhugepagedWaiter {
    let host: MappingHost
    let size: Int
    let sysfs: THPSysfs
    let boundSeconds: Int
    let tracer: ScanTracer?

    func wait(expectCollapse: Bool, progress: (ExperimentProgress) -> Void) throws -> KhugepagedWait {
        guard let shared = host.placements.first(where: { $0.role == .shared }) else {
            throw THPLabError(.system, "no shared mapping to watch")
        }
        let huge = UInt(PageGeometry.pmdSize)
        let extents = size / PageGeometry.pmdSize
        func fullScans() -> Int64 { (try? sysfs.read("khugepaged/full_scans")).flatMap { Int64($0.current) } ?? 0 }
        let scans0 = fullScans()
        let t0 = Sys.monotonicNanoseconds()
        func elapsed() -> Double { Double(Sys.monotonicNanoseconds() - t0) / 1e9 }
        var collapsedAt: [Int: Double] = [:]
        var idle = false
        let scanner = try VmaScanner(pid: host.pid, withPages: false)
        // Without an expected collapse, still wait long enough to see
        // khugepaged pass over its list twice, but no longer than the bound.
        while true {
            for e in 0..<extents where collapsedAt[e] == nil {
                let start = shared.start + UInt(e) * huge
                if try scanner.scan(start: start, end: start + huge).counts.resident == 0 { collapsedAt[e] = elapsed() }
            }
            let scans = fullScans() - scans0
            progress(.waiting(elapsed: elapsed(), bound: boundSeconds, fullScans: scans, collapsed: collapsedAt.count,
                              total: extents))
            if collapsedAt.count == extents { break }
            if !expectCollapse && scans >= 2 { break }
            if !expectCollapse && scans == 0 && elapsed() >= ScanTracer.idleSeconds && tracer?.khugepagedSilent() == true {
                idle = true
                break
            }
            if elapsed() >= Double(boundSeconds) { break }
            Sys.sleep(milliseconds: 50)
        }
        let scans = fullScans() - scans0
        // collapse_file() emits its event after it unmapped the old pages,
        // which is what the loop sees: give the trace a moment to catch up.
        var counts = tracer?.counts()
        let settle = Sys.monotonicNanoseconds() + 1_000_000_000
        while let c = counts, c.collapses < collapsedAt.count, Sys.monotonicNanoseconds() < settle {
            Sys.sleep(milliseconds: 10)
            counts = tracer?.counts()
        }
        var w = KhugepagedWait(boundSeconds: boundSeconds, waitedSeconds: (elapsed() * 1000).rounded() / 1000,
                               extentsTotal: extents, extentsCollapsed: collapsedAt.count,
                               firstCollapseSeconds: collapsedAt.values.min(), lastCollapseSeconds: collapsedAt.count == extents ? collapsedAt.values.max() : nil,
                               fullScans: scans, scanEvents: counts?.scans, collapseEvents: counts?.collapses,
                               lastScanResult: counts?.lastScanResult, visited: nil, verdict: "")
        w.khugepagedIdle = idle ? true : nil
        if let counts {
            w.visited = counts.scans + counts.collapses > 0 || !collapsedAt.isEmpty
        } else if !collapsedAt.isEmpty {
            w.visited = true
        }
        w.verdict = KhugepagedWait.verdict(w)
        return w
    }
}

extension KhugepagedWait {
    /// One line saying what the wait showed, telling "never looked" from
    /// "looked and did not collapse".
    static func verdict(_ w: KhugepagedWait) -> String {
        let t = String(format: "%.2f", w.waitedSeconds)
        if w.extentsCollapsed == w.extentsTotal {
            let first = w.firstCollapseSeconds.map { String(format: "%.2f", $0) } ?? "?"
            return "collapsed all \(w.extentsTotal) extent(s) in \(String(format: "%.2f", w.lastCollapseSeconds ?? w.waitedSeconds)) s (first after \(first) s; \(w.fullScans) full scan(s))"
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
