/// The per-size counters as a table: one row per folio size, one column
/// per counter. `-` is a counter this kernel does not have for that size
/// (shmem's 8 kB has no anonymous counters), never a zero.
public enum PerSizeTable {
    /// The header and the cells, or nil when nothing is non-zero.
    /// - Parameter movedOnly: deltas, written with a sign.
    public static func grid(_ stats: PerSizeStats, movedOnly: Bool) -> (header: [String], rows: [[String]])? {
        let shown = stats.nonZero
        guard !shown.isEmpty else { return nil }
        let columns = shown.counterNames
        return (["size"] + columns, shown.sortedSizes.map { size in
            [FolioSizes.kB(size)] + columns.map { c in stats[size, c].map { movedOnly ? RetractTextReport.signed($0) : String($0) } ?? "-" }
        })
    }

    public static let absent = "none (this kernel has no per-size THP counters; they came with 6.9)"

    public static func lines(_ stats: PerSizeStats?, title: String, movedOnly: Bool, indent: String = "  ") -> [String] {
        guard let stats else { return [indent + title + ": " + absent] }
        guard let g = grid(stats, movedOnly: movedOnly) else { return [indent + title + ": " + (movedOnly ? "no counter moved" : "all zero")] }
        var t = TextTable(header: g.header.map { $0.uppercased() })
        for r in g.rows { t.add(r) }
        return [indent + title + ":", t.render(indent: indent + "  ")]
    }
}
