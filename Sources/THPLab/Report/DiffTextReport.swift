/// `thplab diff` as text.
public enum DiffTextReport {
    public static func render(_ d: DiffResult, all: Bool = false) -> String {
        var out: [String] = []
        for p in d.processes {
            out.append("pid \(p.pid) (\(p.comm)): PMD coverage \(SnapshotTextReport.format1(p.coverageBefore))% -> \(SnapshotTextReport.format1(p.coverageAfter))%; became PMD-mapped \(SnapshotTextReport.size(p.becameHugeKB)), stopped being PMD-mapped \(SnapshotTextReport.size(p.stoppedHugeKB))")
            let shown = p.vmas.filter { all || $0.change != "unchanged" || $0.presence != "matched" }
            if shown.isEmpty {
                out.append("  no VMA changed its PMD mappings")
            } else {
                let mthp = shown.contains { !($0.mthpBeforeKB ?? [:]).isEmpty || !($0.mthpAfterKB ?? [:]).isEmpty }
                var t = TextTable(header: ["RANGE", "CHANGE", "PMD BEFORE", "PMD AFTER", "EXTENTS +/-", "PMD% BEFORE -> AFTER"]
                                  + (mthp ? ["MTHP BEFORE -> AFTER"] : []) + ["NAME"])
                for v in shown {
                    let cov = "\(v.coverageBefore.map(SnapshotTextReport.format1) ?? "-") -> \(v.coverageAfter.map(SnapshotTextReport.format1) ?? "-")"
                    t.add([range(v.start, v.end), v.presence == "matched" ? v.change : v.presence,
                           SnapshotTextReport.size(v.beforeKB?["pmd"] ?? 0), SnapshotTextReport.size(v.afterKB?["pmd"] ?? 0),
                           "+\(v.extentsBecamePmd)/-\(v.extentsLeftPmd)", cov]
                          + (mthp ? [FolioSizes.text(v.mthpBeforeKB, size: SnapshotTextReport.size) + " -> " + FolioSizes.text(v.mthpAfterKB, size: SnapshotTextReport.size)] : []) + [v.backing.name])
                }
                out.append(t.render(indent: "  "))
            }
        }
        if let s = d.system {
            let lines = RetractTextReport.deltaLines(s)
            out.append("system-wide changes between the snapshots:" + (lines.isEmpty ? " none" : ""))
            out.append(contentsOf: lines.map { "  " + $0 })
        }
        out.append(contentsOf: d.notes.map { "note: \($0)" })
        return out.joined(separator: "\n")
    }
}
