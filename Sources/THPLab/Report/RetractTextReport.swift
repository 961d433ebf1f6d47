/// The human-readable report of a `run retract` result.
public enum RetractTextReport {
    public static func render(_ r: RetractResult) -> String {
        var out = header(r)
        out.append("")
        out.append(table(r.mappings))
        out.append("cells: state Rss/Anonymous/PMD-mapped/on-THP in kB (Rss, Anonymous and PMD-mapped from smaps; on-THP from kpageflags: pages of a huge folio, PMD- or PTE-mapped); * = MADV_COLLAPSE target; (w) = worker process")
        out.append("")
        out.append("why each mapping ended so (inferred from the kernel's rules):")
        out.append(contentsOf: reasons(r.mappings))
        if let extents = r.extents, !extents.isEmpty {
            out.append("")
            out.append("the object's extents (huge_memory events, every process):")
            for e in extents { out.append(contentsOf: DiagnosisTextReport.extentLines("extent \(e.index) (at \(e.offset >> 20) MiB)", e.diagnosis)) }
        }
        if let t = r.trace {
            out.append(DiagnosisTextReport.summary(t))
            out.append(contentsOf: DiagnosisTextReport.otherLines(t))
        }
        let deltas = deltaLines(r.deltas)
        if !deltas.isEmpty {
            out.append("")
            out.append("system-wide changes over the run:")
            out.append(contentsOf: deltas.map { "  " + $0 })
        }
        for n in r.notes { out.append("note: \(n)") }
        out.append("")
        out.append(contentsOf: resultLines(ok: r.ok, differences: r.differences))
        return out.joined(separator: "\n")
    }

    /// The run, the object, the knobs changed and what the trigger did.
    static func header(_ r: RetractResult) -> [String] {
        var out: [String] = []
        let o = r.options
        out.append("thplab run retract: kernel \(r.kernelRelease), \(r.backing.rawValue) object of \(SizeParser.format(o.size)), trigger \(r.trigger.rawValue), \(o.processes) process(es)")
        var object = "object: \(r.object.name)"
        if let h = r.object.mountHuge { object += " (tmpfs huge=\(h))" }
        if let fs = r.object.filesystem, r.backing == .file { object += " (filesystem \(fs))" }
        out.append(object)
        if !r.knobsChanged.isEmpty {
            out.append("knobs changed for the run (all put back afterwards):")
            for k in r.knobsChanged { out.append("  \(k.name): \(k.from) -> \(k.to)  (\(k.why))") }
        }
        if let b = r.collapseBlocker { out.append("no collapse possible here: \(b)") }
        for call in r.triggerCalls {
            let got = call.outcome.succeeded ? "0 (success)" : "-1 \(call.outcome.errnoName ?? "")"
            out.append("\(call.outcome.advice) on \(call.outcome.role.rawValue) of pid \(call.outcome.pid): \(got); expected \(call.expectedSuccess ? "success" : "failure") \(call.met ? "[met]" : "[DIFFERENT]")")
        }
        if let w = r.khugepaged { out.append("khugepaged: \(w.verdict)") }
        return out
    }

    /// One row per mapping, one column per phase.
    static func table(_ mappings: [MappingResult]) -> String {
        var table = TextTable(header: ["PID", "ROLE", "RANGE"] + Phase.allCases.map { $0.rawValue.uppercased() } + ["EXPECTED", ""])
        for m in mappings {
            var role = m.role.rawValue
            if m.triggerMapping { role += "*" }
            let cells = Phase.allCases.map { p in m.phase(p).map(cell) ?? "-" }
            table.add(["\(m.pid)\(m.inTriggerProcess ? "" : " (w)")", role, range(m.start, m.end)] + cells
                      + [m.expectedState.rawValue, m.met ? "ok" : "DIFFERENT"])
        }
        return table.render()
    }

    /// Each distinct reason once, with the roles it explains.
    static func reasons(_ mappings: [MappingResult]) -> [String] {
        var reasons: [(roles: [String], reason: String)] = []
        for m in mappings {
            let role = m.role.rawValue + (m.triggerMapping ? "*" : "")
            if let i = reasons.firstIndex(where: { $0.reason == m.reason }) {
                if !reasons[i].roles.contains(role) { reasons[i].roles.append(role) }
            } else {
                reasons.append(([role], m.reason))
            }
        }
        return reasons.map { "  \($0.roles.joined(separator: ", ")): \($0.reason)" }
    }

    /// The last lines of every experiment's report: met, or what differed.
    public static func resultLines(ok: Bool, differences: [String]) -> [String] {
        ok ? ["RESULT: every expectation met"]
            : ["RESULT: the kernel did something else (\(differences.count) difference(s)):"] + differences.map { "  - " + $0 }
    }

    static func cell(_ p: PhaseObservation) -> String {
        "\(p.state.rawValue) \(p.rssKB)/\(p.anonKB)/\(p.pmdMappedKB)/\(p.thpKB.map(String.init) ?? "?")"
    }

    /// Non-zero counter changes, grouped as the kernel names them.
    static func deltaLines(_ d: SystemCounters) -> [String] {
        var lines: [String] = []
        let k = d.khugepaged.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        if !k.isEmpty { lines.append("khugepaged: " + k.map { "\($0.key) \(signed($0.value))" }.joined(separator: ", ")) }
        let v = d.vmstat.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        if !v.isEmpty { lines.append("vmstat: " + v.map { "\($0.key) \(signed($0.value))" }.joined(separator: ", ")) }
        let m = d.meminfo.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        if !m.isEmpty { lines.append("meminfo: " + m.map { "\($0.key) \(signed($0.value)) kB" }.joined(separator: ", ")) }
        if let p = d.perSize, !p.nonZero.isEmpty {
            lines += PerSizeTable.lines(p, title: "per-size counters (whole system)", movedOnly: true, indent: "")
        }
        return lines
    }

    static func signed(_ v: Int64) -> String { v > 0 ? "+\(v)" : "\(v)" }
}
