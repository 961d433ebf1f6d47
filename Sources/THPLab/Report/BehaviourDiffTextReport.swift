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
        out.append("why (rows with the same rules together):")
        var order: [String] = []
        var groups: [String: (rows: [(String, String)], text: [String])] = [:]
        for c in d.changes {
            var text: [String] = []
            if let v = c.versionRule { text.append("    version rule \(v)") }
            if let r = c.ruleBefore { text.append("    before: \(r)") }
            if let r = c.ruleAfter, r != c.ruleBefore { text.append("    after:  \(r)") }
            if !c.explained { text.append("    the model did not expect this on one side: a behaviour change thplab has no rule for") }
            if text.isEmpty { text.append("    no rule: a kernel difference thplab records but does not explain") }
            let key = text.joined(separator: "\n")
            if groups[key] == nil { order.append(key) }
            groups[key, default: ([], text)].rows.append((c.group, c.subject))
        }
        for key in order {
            let g = groups[key]!
            // Each entry once, with its subjects: "entry: a, b; entry2: c".
            var entries: [String] = []
            var subjects: [String: [String]] = [:]
            for (entry, subject) in g.rows {
                if subjects[entry] == nil { entries.append(entry) }
                subjects[entry, default: []].append(subject)
            }
            out.append("  " + entries.map { "\($0): " + subjects[$0]!.joined(separator: ", ") }.joined(separator: "; "))
            out += g.text
        }
        if !d.unknown.isEmpty {
            out.append("")
            out.append("not compared (one side could not tell): " + d.unknown.joined(separator: "; "))
        }
        return out.joined(separator: "\n")
    }
}
