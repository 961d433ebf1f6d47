
/// `run benefit` as text: one row per state, and what it comes to.
public enum BenefitTextReport {
    public static func render(_ r: BenefitResult) -> String {
        let o = r.options
        var out = ["thplab run benefit: kernel \(r.kernelRelease), \(SizeParser.format(o.size)) of \(o.memory.rawValue), \(o.rounds) round(s) "
                   + "of \(r.states.count) states in turn (chase: \(r.chaseSteps) dependent loads; stream: \(r.streamPasses) pass(es))"]
        // The CPU's counters, per load of the chase, where they were counted.
        let misses = r.states.contains { $0.dtlbMissesPerLoad != nil }, walks = r.states.contains { $0.walkCyclesPerLoad != nil }
        var t = TextTable(header: ["STATE", "PAGES (pmd/pte-thp/mthp/small)", "CHASE ns/load", "", "STREAM ns/line", ""]
                          + (misses ? ["dTLB MISSES/load"] : []) + (walks ? ["WALK CYCLES/load"] : []))
        for s in r.states {
            let p = s.pages
            t.add([s.state.rawValue, "\(p.pmd)/\(p.pteThp)/\(p.mthp)/\(p.small)" + (s.held ? "" : " (not this state)"),
                   figure(s.chase), speedup(s.chaseSpeedup, s.chaseMeasurable), figure(s.stream), speedup(s.streamSpeedup, s.streamMeasurable)]
                  + (misses ? [s.dtlbMissesPerLoad.map { String(cFormat: "%.2f", $0) } ?? "-"] : [])
                  + (walks ? [s.walkCyclesPerLoad.map { String(cFormat: "%.1f", $0) } ?? "-"] : []))
        }
        out.append("")
        out.append(t.render())
        out.append("figures: median (min-max) over the rounds; x: small pages' median over the state's (above 1: faster)")
        if !r.knobsChanged.isEmpty {
            out.append("set while a state faulted in, and put back at once: " + r.knobsChanged.map { "\($0.name) \($0.from)->\($0.to)" }.joined(separator: ", "))
        }
        out.append("")
        out.append(contentsOf: conclusion(r))
        out.append("note: " + r.pmu)
        out.append(contentsOf: r.notes.map { "note: \($0)" })
        out.append(contentsOf: RetractTextReport.resultLines(ok: r.ok, differences: r.differences))
        return out.joined(separator: "\n")
    }

    static func figure(_ f: AccessFigure?) -> String {
        guard let f else { return "-" }
        return String(cFormat: "%.1f (%.1f-%.1f)", f.medianNs, f.minNs, f.maxNs)
    }

    static func speedup(_ x: Double?, _ measurable: Bool?) -> String {
        guard let x else { return "" }
        return String(cFormat: "%.2fx", x) + (measurable == false ? " (not measurable here)" : "")
    }

    /// What the huge page bought, in a sentence per kernel.
    static func conclusion(_ r: BenefitResult) -> [String] {
        guard let small = r.states.first(where: { $0.state == .small }), let pmd = r.states.first(where: { $0.state == .pmd }),
              let sc = small.chase, let pc = pmd.chase, let ss = small.stream, let ps = pmd.stream else {
            let held = r.states.allSatisfy(\.held)
            return [held ? "no timings were taken (see the note): the states and their pages only" : "no comparison: the small or the pmd state did not hold"]
        }
        func sentence(_ what: String, _ base: AccessFigure, _ huge: AccessFigure, _ unit: String) -> String {
            let x = huge.speedup(over: base)
            guard r.options.rounds < 2 || !huge.overlaps(base) else {
                return "\(what): PMD-mapped and small pages are not apart here (\(String(cFormat: "%.1f", huge.medianNs)) vs \(String(cFormat: "%.1f", base.medianNs)) ns per \(unit), the rounds overlap)"
            }
            return "\(what): PMD-mapped is \(String(cFormat: "%.2f", x))x \(x >= 1 ? "faster" : "slower") than small pages (\(String(cFormat: "%.1f", huge.medianNs)) vs \(String(cFormat: "%.1f", base.medianNs)) ns per \(unit))"
        }
        return [sentence("random chase over \(SizeParser.format(r.options.size))", sc, pc, "load"), sentence("sequential stream", ss, ps, "line")]
    }
}
