
/// `run retract` and `run collapse|sparse|latency|swap` as HTML sections.
enum HTMLExperiments {
    static func knobsChanged(_ changes: [KnobChange]) -> String {
        changes.isEmpty ? "<p class=\"muted\">No knob changed.</p>"
            : "<h3>Knobs changed for the run (all put back)</h3>" + HTML.table(["knob", "from", "to", "why"],
                changes.map { [HTML.escape($0.name), HTML.escape($0.from), HTML.escape($0.to), HTML.escape($0.why)] })
    }

    static func reasonCell(_ d: ExtentDiagnosis?) -> String {
        guard let d else { return "-" }
        let events = DiagnosisTextReport.folded(d.events).map { "<br><code>\(HTML.escape($0))</code>" }.joined()
        return HTML.escape(d.reason) + (d.inferred ? " <i class=\"muted\">[inferred]</i>" : "") + events
    }

    static func outcome(_ ok: Bool, _ differences: [String], _ notes: [String]) -> String {
        "<h3>Result: \(HTML.verdict(ok))</h3>" + HTML.list(differences) + (notes.isEmpty ? "" : "<h3>Notes</h3>" + HTML.list(notes))
    }

    static func retract(_ r: RetractResult) -> String {
        var s = "<h2>run retract: \(HTML.escape(r.backing.rawValue)), trigger \(HTML.escape(r.trigger.rawValue))</h2>"
        var facts: [(String, String)] = [("kernel", r.kernelRelease), ("object", r.object.name),
                                         ("size", SizeParser.format(r.options.size)), ("processes", "\(r.options.processes)"),
                                         ("options", HTML.optionsLine(r.options))]
        if let w = r.khugepaged { facts.append(("khugepaged", w.verdict)) }
        if let b = r.collapseBlocker { facts.append(("no collapse possible", b)) }
        for c in r.triggerCalls {
            facts.append(("\(c.outcome.advice) on \(c.outcome.role.rawValue)", c.outcome.succeeded ? "success" : (c.outcome.errnoName ?? "error")))
        }
        s += HTML.facts(facts) + knobsChanged(r.knobsChanged)
        s += "<h3>Mappings, phase by phase</h3>"
        s += mappingsTable(r.mappings)
        // Coverage through the phases: PMD-mapped kB per mapping, one small
        // panel per process on one scale, so that no line hides another.
        let top = LineChart.niceCeiling(Double(r.mappings.flatMap { m in Phase.allCases.compactMap { m.phase($0)?.pmdMappedKB } }.max() ?? 1))
        s += "<div class=\"panels\">"
        for pid in r.mappings.map(\.pid).uniqued() {
            let series = r.mappings.filter { $0.pid == pid }.map { m in
                LineChart.Series(name: m.role.rawValue, points: Phase.allCases.map { p in (p.rawValue, m.phase(p).map { Double($0.pmdMappedKB) }) })
            }
            s += LineChart(title: "pid \(pid): PMD-mapped through the phases", xLabel: "phase", yLabel: "PMD-mapped (kB)",
                           series: series, yMax: top).svg(width: 520, height: 260)
        }
        s += "</div>"
        if let extents = r.extents {
            s += "<h3>The object's extents: events and reasons</h3>"
            s += HTML.table(["extent", "offset", "why"], extents.map { ["\($0.index)", "\($0.offset >> 20) MiB", reasonCell($0.diagnosis)] })
        }
        s += perSize(r.deltas.perSize, title: "Per-size counters over the run (whole system)", movedOnly: true)
        return s + outcome(r.ok, r.differences, r.notes)
    }

    /// Mappings phase by phase, each against its expectation (retract's
    /// mappings, a region scenario's holders).
    static func mappingsTable(_ mappings: [MappingResult]) -> String {
        let rows = mappings.map { m -> [String] in
            var cells = ["\(m.pid)" + (m.inTriggerProcess ? "" : " (worker)"), HTML.escape(m.role.rawValue) + (m.triggerMapping ? " *" : "")]
            for p in Phase.allCases {
                let o = m.phase(p)
                cells.append(HTML.state(o?.state.rawValue) + (o.map { " <span class=\"muted\">\($0.rssKB)/\($0.anonKB)/\($0.pmdMappedKB)/\($0.thpKB.map(String.init) ?? "?") kB</span>" } ?? ""))
            }
            cells.append(HTML.state(m.expectedState.rawValue))
            cells.append(m.met ? "<span class=\"ok\">met</span>" : "<span class=\"bad\">different</span>")
            cells.append(HTML.escape(m.reason))
            return cells
        }
        return HTML.table(["pid", "role"] + Phase.allCases.map(\.rawValue) + ["expected", "", "why (the kernel's rule)"], rows)
            + "<p class=\"muted\">Cells: Rss/Anonymous/PMD-mapped/on-THP in kB. * = the mapping MADV_COLLAPSE was called on.</p>"
    }

    static func region(_ r: RegionResult) -> String {
        let o = r.options
        var s = "<h2>run \(HTML.escape(r.scenario.rawValue)): \(HTML.escape(o.backing.rawValue)), trigger \(HTML.escape(o.trigger.rawValue))</h2>"
        var facts: [(String, String)] = [("kernel", r.kernelRelease), ("extents", "\(o.processes) process(es) x \(o.extents), \(o.present)/512 pages present"),
                                         ("collapsed", "\(r.collapsed) of \(r.total) (expected \(r.expectedCollapsed))"), ("rule", r.rule),
                                         ("PMD coverage after", "\(SnapshotTextReport.format1(r.coveragePercent)) %")]
        if let w = r.khugepaged { facts.append(("khugepaged", w.verdict)) }
        if let l = r.latency {
            facts.append(("latency (\(l.source))", String(cFormat: "median %.3f ms, min %.3f ms, max %.3f ms", l.medianMs, l.minMs, l.maxMs)
                          + (l.fullCoverageMs.map { String(cFormat: ", full coverage after %.3f ms", $0) } ?? "")))
        }
        let inForce = r.knobsInForce.filter { $0.key.hasPrefix("khugepaged/") }.sorted { $0.key < $1.key }
        facts.append(("knobs in force", inForce.map { "\($0.key.dropFirst(11))=\($0.value)" }.joined(separator: ", ")))
        facts.append(("options", HTML.optionsLine(o)))
        s += HTML.facts(facts) + knobsChanged(r.knobsChanged)
        s += "<h3>Extent map after the run</h3>"
        let byPid = Dictionary(grouping: r.extents, by: \.pid)
        s += ExtentStrip(rows: byPid.keys.sorted().map { pid in
            ExtentStrip.Row(label: "pid \(pid)", cells: byPid[pid]!.map { (HTML.hex($0.start), $0.pagesAfter) })
        }).svg()
        let nodes = r.extents.contains { $0.nodesBefore != nil }
        s += HTML.table(["pid", "extent", "present", "collapsed", "latency"] + (nodes ? ["nodes before → after"] : []) + ["why"], r.extents.map { e in
            ["\(e.pid)", HTML.hex(e.start), "\(e.presentPages)",
             e.collapsed ? "<span class=\"ok\">yes</span>" : "no" + (e.errnoName.map { " (\(HTML.escape($0)))" } ?? ""),
             e.latencyMs.map { String(cFormat: "%.3f ms", $0) } ?? "-"]
                + (nodes ? [RegionTextReport.nodeText(e.nodesBefore) + " → " + RegionTextReport.nodeText(e.nodesAfter)] : [])
                + [reasonCell(e.diagnosis)]
        })
        if let n = r.numa {
            s += "<h3>NUMA</h3>" + HTML.facts([("placement", n.placement.map { $0 + (n.placementHeld == true ? " (held)" : " (did not hold)") } ?? "none"),
                                                 ("huge pages by node", n.hugePagesByNode.sorted { $0.key < $1.key }.map { "node \($0.key): \($0.value)" }.joined(separator: ", "))])
            s += HTML.table(["node", "memory", "free"] + NumaTopology.hugeLines, n.nodesAfter.map { node in
                ["\(node.node)", "\(node.memTotalKB >> 10) MiB", "\(node.memFreeKB >> 10) MiB"] + NumaTopology.hugeLines.map { "\(node.hugeKB[$0] ?? 0) kB" }
            })
        }
        if let holders = r.holders, !holders.isEmpty {
            s += "<h3>The object in another process</h3>" + mappingsTable(holders)
        }
        if r.bloat != nil {
            s += "<h3>What the collapse cost, and what the shrinker gave back</h3><pre>"
                + HTML.escape(BloatTextReport.lines(r).drop { $0.isEmpty }.joined(separator: "\n")) + "</pre>"
        }
        s += perSize(r.deltas.perSize, title: "Per-size counters over the run (whole system)", movedOnly: true)
        return s + outcome(r.ok, r.differences, r.notes)
    }
}
