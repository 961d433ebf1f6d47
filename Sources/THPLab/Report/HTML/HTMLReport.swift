/// Any number of thplab results as one self-contained HTML page.
public enum HTMLReport {
    public static func render(_ results: [(source: String, result: AnyResult)]) -> String {
        let sections = results.map { item -> String in
            let body: String
            switch item.result {
            case .retract(let r): body = HTMLExperiments.retract(r)
            case .run(let r): body = HTMLExperiments.region(r)
            case .sweep(let r): body = HTMLSweep.render(r)
            case .watch(let r): body = HTMLCoverage.watch(r)
            case .snapshot(let r): body = HTMLCoverage.snapshot(r)
            case .diff(let r): body = HTMLCoverage.diff(r)
            case .matrix(let r): body = HTMLMatrix.render(r)
            case .explain(let r): body = HTMLCoverage.explain(r)
            case .battery(let r): body = HTMLBehaviour.battery(r)
            case .behaviourDiff(let r): body = HTMLBehaviour.diff(r)
            case .mthp(let r): body = HTMLExperiments.mthp(r)
            case .mthpSweep(let r): body = HTMLExperiments.mthpSweep(r)
            case .benefit(let r): body = HTMLBenefit.render(r)
            case .other(let kind, let json): body = "<h2>\(HTML.escape(kind.rawValue))</h2><pre>\(HTML.escape(json))</pre>"
            }
            return "<section class=\"result\" data-kind=\"\(HTML.escape(item.result.kind.rawValue))\"><p class=\"muted\">from \(HTML.escape(item.source))</p>\(body)</section>"
        }
        let title = results.count == 1 ? "thplab \(results[0].result.kind.rawValue)" : "thplab: \(results.count) results"
        return HTML.page(title: title, sections: sections)
    }
}
