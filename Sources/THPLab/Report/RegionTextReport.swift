/// `run collapse|sparse|latency|swap|numa|bloat|shared` as text.
public enum RegionTextReport {
    public static func render(_ r: RegionResult) -> String {
        let o = r.options
        var out = ["thplab run \(r.scenario.rawValue): kernel \(r.kernelRelease), \(o.backing.rawValue), \(o.processes) process(es) x \(o.extents) extent(s) with \(o.present)/512 pages present, trigger \(o.trigger.rawValue)"]
        let own = o.scenario.rules.reportKnobs
        let inForce = ([Knob.maxPtesNone] + own + [.scanSleepMillisecs, .pagesToScan]).map(\.rawValue)
            .compactMap { k in r.knobsInForce[k].map { "\(k.split(separator: "/").last!)=\($0)" } }
        out.append("knobs in force: " + inForce.joined(separator: ", "))
        if !r.knobsChanged.isEmpty {
            out.append("changed for the run (put back afterwards): " + r.knobsChanged.map { "\($0.name) \($0.from)->\($0.to)" }.joined(separator: ", "))
        }
        if let w = r.khugepaged { out.append("khugepaged: \(w.verdict)") }
        let nodes = r.extents.contains { $0.nodesBefore != nil }
        var t = TextTable(header: ["PID", "EXTENT", "PRESENT", "COLLAPSED", "LATENCY"] + (nodes ? ["NODES (pages before -> after)"] : [])
                          + ["AFTER (first page touched)"])
        for e in r.extents {
            let after = PageClass.allCases.filter { e.pagesAfter[$0] > 0 }.map { "\($0.label) \(e.pagesAfter[$0])" }.joined(separator: ", ")
            t.add(["\(e.pid)", hex(e.start), "\(e.presentPages)", e.collapsed ? "yes" : (e.errnoName.map { "no (\($0))" } ?? "no"),
                   e.latencyMs.map { String(cFormat: "%.3f ms", $0) } ?? "-"]
                  + (nodes ? [nodeText(e.nodesBefore) + " -> " + nodeText(e.nodesAfter)] : []) + [after])
        }
        out.append("")
        out.append(t.render())
        out.append("")
        if r.extents.contains(where: { $0.diagnosis != nil }) {
            out.append("why, extent by extent:")
            for e in r.extents { if let d = e.diagnosis { out.append(contentsOf: DiagnosisTextReport.extentLines("\(e.pid) \(hex(e.start))", d)) } }
        }
        if let holders = r.holders, !holders.isEmpty {
            out.append("")
            out.append("the object in another process (w = worker; cells as in run retract: state Rss/Anonymous/PMD-mapped/on-THP kB):")
            out.append(RetractTextReport.table(holders))
            out.append(contentsOf: RetractTextReport.reasons(holders))
        }
        if let n = r.numa, !n.nodesBefore.isEmpty {
            out.append(SnapshotTextReport.numaLines(NumaTopology(nodes: n.nodesAfter)).joined(separator: "\n"))
        }
        if let t = r.trace {
            out.append(DiagnosisTextReport.summary(t))
            out.append(contentsOf: DiagnosisTextReport.otherLines(t))
        }
        out.append("")
        out.append("collapsed \(r.collapsed)/\(r.total), expected \(r.expectedCollapsed): \(r.rule)")
        if let l = r.latency {
            out.append("latency (\(l.source.rawValue)): " + String(cFormat: "median %.3f ms, min %.3f ms, max %.3f ms", l.medianMs, l.minMs, l.maxMs)
                       + (l.fullCoverageMs.map { String(cFormat: ", full coverage after %.3f ms", $0) } ?? ""))
        }
        out.append("PMD coverage after: \(SnapshotTextReport.format1(r.coveragePercent))% of resident pages")
        out += BloatTextReport.lines(r)
        if let p = r.deltas.perSize, !p.nonZero.isEmpty {
            out += PerSizeTable.lines(p, title: "per-size counters over the run (whole system)", movedOnly: true, indent: "")
        }
        out.append(contentsOf: r.notes.map { "note: \($0)" })
        out.append(contentsOf: RetractTextReport.resultLines(ok: r.ok, differences: r.differences))
        return out.joined(separator: "\n")
    }

    /// `0:256 1:256`: pages per node.
    static func nodeText(_ n: [String: Int]?) -> String {
        guard let n, !n.isEmpty else { return "-" }
        return n.keys.sorted().map { "\($0):\(n[$0]!)" }.joined(separator: " ")
    }
}
