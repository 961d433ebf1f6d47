
/// `run benefit` as HTML: the states' table, and what it comes to.
enum HTMLBenefit {
    static func render(_ r: BenefitResult) -> String {
        let o = r.options
        var s = "<h2>run benefit: \(HTML.escape(SizeParser.format(o.size))) of \(HTML.escape(o.memory.rawValue))</h2>"
        s += HTML.facts([("kernel", r.kernelRelease), ("rounds", "\(o.rounds), states in turn"),
                         ("chase", "\(r.chaseSteps) dependent loads per measurement"), ("stream", "\(r.streamPasses) pass(es) per measurement"),
                         ("hardware counters", r.pmu)])
        let misses = r.states.contains { $0.dtlbMissesPerLoad != nil }, walks = r.states.contains { $0.walkCyclesPerLoad != nil }
        let header = ["state", "pages (pmd/pte-thp/mthp/small)", "chase ns/load", "", "stream ns/line", ""]
            + (misses ? ["dTLB misses/load"] : []) + (walks ? ["walk cycles/load"] : []) + ["how it was made"]
        s += HTML.table(header, r.states.map { st -> [String] in
            let pages = "\(st.pages.pmd)/\(st.pages.pteThp)/\(st.pages.mthp)/\(st.pages.small)" + (st.held ? "" : " <span class=\"bad\">not this state</span>")
            let times = [BenefitTextReport.figure(st.chase), BenefitTextReport.speedup(st.chaseSpeedup, st.chaseMeasurable),
                         BenefitTextReport.figure(st.stream), BenefitTextReport.speedup(st.streamSpeedup, st.streamMeasurable)]
            var counters: [String] = []
            if misses { counters.append(st.dtlbMissesPerLoad.map { String(cFormat: "%.2f", $0) } ?? "-") }
            if walks { counters.append(st.walkCyclesPerLoad.map { String(cFormat: "%.1f", $0) } ?? "-") }
            return [HTML.escape(st.state.rawValue), pages] + times.map(HTML.escape) + counters + [HTML.escape(st.how)]
        })
        s += "<p>" + BenefitTextReport.conclusion(r).map(HTML.escape).joined(separator: "<br>") + "</p>"
        return s + HTMLExperiments.outcome(r.ok, r.differences, r.notes)
    }
}
