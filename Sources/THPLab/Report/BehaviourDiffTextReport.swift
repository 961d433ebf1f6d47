/// `thplab diff` of two battery fingerprints as text.
public enum BehaviourDiffTextReport {
    public static func render(_ d: BehaviourDiffResult) -> String {
        var out = ["behaviour: kernel \(d.kernelBefore) -> \(d.kernelAfter): \(d.changes.count) row(s) changed, \(d.unchanged) the same"]
        guard !d.changes.isEmpty else {
            out.append("the two kernels behaved the same in every row thplab measures")
            return out.joined(separator: "\n")
        }
        var t = TextTable(header: ["ENTRY", "SUBJECT", "BEFORE", "AFTER", ""])
        for c in d.changes {
            t.add([c.group, c.subject, c.before ?? "(absent)", c.after ?? "(absent)", c.explained ? "" : "not in the model"])
        }
        out.append("")
        out.append(t.render())
        out.append("")
        out.append("why, row by row:")
        for c in d.changes {
            out.append("  \(c.group): \(c.subject)")
            if let r = c.ruleBefore { out.append("    before: \(r)") }
            if let r = c.ruleAfter, r != c.ruleBefore { out.append("    after:  \(r)") }
            if !c.explained { out.append("    the model did not expect this on one side: a behaviour change thplab has no rule for") }
        }
        return out.joined(separator: "\n")
    }
}
