import Foundation

/// `run benefit` as HTML: the states' table, and what it comes to.
enum HTMLBenefit {
    static func render(_ r: BenefitResult) -> String {
        let o = r.options
        var s = "<h2>run benefit: \(HTML.escape(SizeParser.format(o.size))) of \(HTML.escape(o.memory.rawValue))</h2>"
        s += HTML.facts([("kernel", r.kernelRelease), ("rounds", "\(o.rounds), states in turn"),
                         ("chase", "\(r.chaseSteps) dependent loads per measurement"), ("stream", "\(r.streamPasses) pass(es) per measurement"),
                         ("hardware counters", r.pmu)])
        s += HTML.table(["state", "pages (pmd/pte-thp/mthp/small)", "chase ns/load", "", "stream ns/line", "", "how it was made"], r.states.map { st in
            [HTML.escape(st.state.rawValue), "\(st.pages.pmd)/\(st.pages.pteThp)/\(st.pages.mthp)/\(st.pages.small)" + (st.held ? "" : " <span class=\"bad\">not this state</span>"),
             HTML.escape(BenefitTextReport.figure(st.chase)), HTML.escape(BenefitTextReport.speedup(st.chaseSpeedup, st.chaseMeasurable)),
             HTML.escape(BenefitTextReport.figure(st.stream)), HTML.escape(BenefitTextReport.speedup(st.streamSpeedup, st.streamMeasurable)),
             HTML.escape(st.how)]
        })
        s += "<p>" + BenefitTextReport.conclusion(r).map(HTML.escape).joined(separator: "<br>") + "</p>"
        return s + HTMLExperiments.outcome(r.ok, r.differences, r.notes)
    }
}
