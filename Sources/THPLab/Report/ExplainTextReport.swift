/// `thplab explain` as text.
public enum ExplainTextReport {
    public static func render(_ r: ExplainResult, all: Bool) -> String {
        var out = ["pid \(r.pid) (\(r.comm)) on kernel \(r.kernelRelease): enabled=\(r.knobs["enabled"] ?? "?"), shmem_enabled=\(r.knobs["shmem_enabled"] ?? "?")"]
        for v in r.vmas where all || (v.classesKB["pmd"] ?? 0) + (v.classesKB["pte_thp"] ?? 0) + (v.classesKB["mthp"] ?? 0) + (v.classesKB["small"] ?? 0) > 0 {
            out.append("")
            out.append("\(range(v.start, v.end)) \(v.kind) \(v.name)")
            let classes = ["pmd", "pte_thp", "mthp", "small", "swapped"].compactMap { k in (v.classesKB[k] ?? 0) > 0 ? "\(k) \(SnapshotTextReport.size(v.classesKB[k]!))" : nil }
            out.append("  now: " + (classes.isEmpty ? "nothing resident" : classes.joined(separator: ", ")) + "; PMD coverage \(SnapshotTextReport.format1(v.coveragePercent))%")
            out.append("  THPeligible \(v.thpEligible.map { $0 ? "1" : "0" } ?? "?"), VmFlags \(v.flags.isEmpty ? "-" : v.flags.joined(separator: " ")), whole 2 MiB extents \(v.wholeExtents)" + (v.aligned.map { $0 ? ", offset aligned" : ", offset MISALIGNED" } ?? ""))
            for b in v.blockers { out.append("  - " + b) }
            out.append("  => " + v.verdict)
        }
        out.append(contentsOf: r.notes.map { "note: \($0)" })
        return out.joined(separator: "\n")
    }
}
