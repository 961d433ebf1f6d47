/// `thplab watch` lines.
public enum WatchTextReport {
    public static func line(_ s: WatchSample) -> String {
        var l = String(cFormat: "%8.1fs", s.t) + "  resident \(SnapshotTextReport.size(s.residentKB))  pmd \(SnapshotTextReport.size(s.pmdKB))"
            + "  (\(SnapshotTextReport.format1(s.coveragePercent))%)  swapped \(SnapshotTextReport.size(s.swappedKB))"
        if let c = s.classesKB {
            let sizes = s.mthpSizesKB.map { $0.isEmpty ? "" : " (" + FolioSizes.text($0, size: SnapshotTextReport.size) + ")" } ?? ""
            l += "  [pte-thp \(SnapshotTextReport.size(c["pte_thp"] ?? 0)), mthp \(SnapshotTextReport.size(c["mthp"] ?? 0))\(sizes), small \(SnapshotTextReport.size(c["small"] ?? 0))]"
        }
        return l
    }

    public static func summary(_ r: WatchResult) -> String {
        guard let first = r.samples.first, let last = r.samples.last else { return "no sample taken (\(r.ended))" }
        let who = r.pids.map { "\($0.count) processes" } ?? "pid \(r.pid) (\(r.comm))"
        return (r.notes ?? []).map { "note: \($0)\n" }.joined() + "\(who): \(r.samples.count) sample(s) over \(SnapshotTextReport.format1(last.t)) s, ended: \(r.ended); PMD coverage \(SnapshotTextReport.format1(first.coveragePercent))% -> \(SnapshotTextReport.format1(last.coveragePercent))%, pmd \(SnapshotTextReport.size(first.pmdKB)) -> \(SnapshotTextReport.size(last.pmdKB))"
    }
}
