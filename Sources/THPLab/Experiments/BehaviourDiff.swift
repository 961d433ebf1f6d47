/// Two behaviour fingerprints compared row by row: what a patch (or a
/// kernel version) changed, with the rule on each side.
public enum BehaviourDiff {
    public static func diff(before: BatteryResult, after: BatteryResult) -> BehaviourDiffResult {
        let a = before.rows, b = after.rows
        let aByKey = Dictionary(a.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let bByKey = Dictionary(b.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var keys = a.map(\.key)
        for r in b where aByKey[r.key] == nil { keys.append(r.key) }
        var changes: [BehaviourDiffResult.Change] = []
        var unchanged = 0
        var unknown: [String] = []
        for key in keys {
            let x = aByKey[key], y = bByKey[key]
            if let x, let y, x.observed == y.observed {
                unchanged += 1
                continue
            }
            if let u = [x, y].compactMap({ $0 }).first(where: \.isUnknown) {
                unknown.append("\(u.group): \(u.subject): " + (u.rule ?? "not told"))
                continue
            }
            let row = (x ?? y)!
            changes.append(.init(group: row.group, subject: row.subject, before: x?.observed, after: y?.observed,
                                 ruleBefore: x?.rule, ruleAfter: y?.rule, explained: (x?.met ?? true) && (y?.met ?? true),
                                 versionRule: versionRule(group: row.group, subject: row.subject)))
        }
        return BehaviourDiffResult(kernelBefore: before.kernelRelease, kernelAfter: after.kernelRelease, changes: changes,
                                   unchanged: unchanged, unknown: unknown)
    }

    /// The version rule a row is evidence of: the same entry (or one with
    /// more options), and the same subject or the same mapping kind in
    /// another process.
    static func versionRule(group: String, subject: String) -> String? {
        let kind = subject.split(separator: " ").last.map(String.init)
        let rule = VersionRules.all.first { r in
            r.evidence.contains { group.hasPrefix($0.entry) && ($0.subject == subject || $0.subject.split(separator: " ").last.map(String.init) == kind) }
        }
        return rule.map { "\($0.id) (\($0.since)+): \($0.text)" }
    }
}
