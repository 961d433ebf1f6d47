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
        for key in keys {
            let x = aByKey[key], y = bByKey[key]
            if let x, let y, x.observed == y.observed {
                unchanged += 1
                continue
            }
            let row = (x ?? y)!
            changes.append(.init(group: row.group, subject: row.subject, before: x?.observed, after: y?.observed,
                                 ruleBefore: x?.rule, ruleAfter: y?.rule, explained: (x?.met ?? true) && (y?.met ?? true)))
        }
        return BehaviourDiffResult(kernelBefore: before.kernelRelease, kernelAfter: after.kernelRelease, changes: changes, unchanged: unchanged)
    }
}
