/// `run bloat`'s memory part as text, and the one sentence that says what
/// a setting buys and costs (also each sweep point's).
public enum BloatTextReport {
    public static func lines(_ r: RegionResult) -> [String] {
        guard let b = r.bloat else { return [] }
        var out = ["", "memory of the region (\(r.options.extents) x 2M, in its own cgroup \(b.cgroup)), pages from pagemap:"]
        let pressed = b.shrinker != nil
        var t = TextTable(header: ["EXTENT", "TOUCHED", "BEFORE", "AFTER COLLAPSE", "ZEROS ADDED"]
                          + (pressed ? ["AFTER PRESSURE", "ON ZERO PAGE", "SPLIT (expected)"] : []))
        let kB = PageGeometry.pageKB
        for e in r.extents {
            guard let x = e.bloat else { continue }
            var row = [hex(e.start), "\(x.touched)", FolioSizes.kB(x.residentBefore * kB), FolioSizes.kB(x.residentAfterCollapse * kB),
                       FolioSizes.kB(x.zeroFilled * kB)]
            if pressed {
                row += [x.residentAfterPressure.map { FolioSizes.kB($0 * kB) } ?? "-", x.zeroPageMapped.map(String.init) ?? "-",
                        "\(yesNo(x.split)) (\(yesNo(x.expectedSplit)))"]
            }
            t.add(row)
        }
        out.append(t.render(indent: "  "))
        out.append("total: \(FolioSizes.kB(b.residentBeforeKB)) written -> \(FolioSizes.kB(b.residentAfterCollapseKB)) resident after the collapse (+\(FolioSizes.kB(b.addedKB)) of zeros); smaps Rss \(FolioSizes.kB(b.rssBeforeKB)) -> \(FolioSizes.kB(b.rssAfterCollapseKB)), Anonymous \(FolioSizes.kB(b.anonymousAfterCollapseKB))")
        if let s = b.shrinker {
            out.append("pressure: \(s.pressure.how): \(s.pressure.answer); cgroup usage \(FolioSizes.kB(Int(s.pressure.usageBeforeKB))) -> \(FolioSizes.kB(Int(s.pressure.usageAfterKB)))")
            out.append("shrinker: split \(s.split) THP(s) (expected \(s.expectedSplit)), gave back \(FolioSizes.kB(s.returnedKB)); \(s.zeroPageMapped) subpage(s) now on the zero page; smaps Rss \(FolioSizes.kB(s.rssAfterKB)); PMD coverage after \(SnapshotTextReport.format1(s.coverageAfterPercent))%")
            let counters = s.counters.keys.sorted().map { "\($0) \(signed(s.counters[$0]!))" }
                + (s.splitDeferred[String(PageGeometry.pmdKB)].map { ["split_deferred (2M) \(signed($0))"] } ?? [])
            if !counters.isEmpty { out.append("  counters: " + counters.joined(separator: ", ")) }
            if let rule = r.extents.first(where: { $0.collapsed })?.bloat?.rule { out.append("  rule: " + rule) }
        } else if let why = b.noShrinker {
            out.append("shrinker: " + why)
        }
        out.append("so: " + sentence(knobs: r.knobsInForce, touched: b.touched, collapsed: r.collapsed, total: r.total,
                                      addedKB: b.addedKB, returnedKB: b.shrinker?.returnedKB, trigger: r.options.trigger,
                                      anon: r.options.backing == .anon))
        return out
    }

    /// What this setting bought (coverage) and cost (zeros made resident,
    /// and what came back under pressure), and what to change, in one sentence.
    public static func sentence(knobs: [String: String], touched: Int, collapsed: Int, total: Int, addedKB: Int,
                                returnedKB: Int?, trigger: Trigger, anon: Bool = true) -> String {
        let n = PageGeometry.pagesPerPmd
        let none = knobs[Knob.maxPtesNone.rawValue].flatMap { Int($0) } ?? n - 1
        let data = FolioSizes.kB(touched * PageGeometry.pageKB)
        let zeros = n - touched
        guard collapsed > 0 else {
            if touched == 0 { return "nothing touched, no page table: nothing collapses, nothing is added" }
            return trigger == .khugepaged
                ? "no THP, no cost: khugepaged needs \(n - none) of 512 pages touched, these have \(touched); max_ptes_none=\(zeros) or more buys the coverage for \(FolioSizes.kB(zeros * PageGeometry.pageKB)) of zeros per extent"
                : "nothing collapsed, so nothing was added"
        }
        var s = "\(collapsed)/\(total) extents huge, each for \(FolioSizes.kB(addedKB / collapsed)) of zeros beside \(data) of data"
        let shrinker = knobs[Knob.shrinkUnderused.rawValue]
        if !anon {
            s += "; shmem THPs are never split by the shrinker: only max_ptes_none bounds this"
        } else if let back = returnedKB, back > 0 {
            s += "; under pressure the shrinker took \(FolioSizes.kB(back)) back, and the coverage with it (\(zeros) zeros > max_ptes_none=\(none))"
        } else if shrinker == nil {
            s += "; no underused-THP shrinker on this kernel (6.12+): only max_ptes_none bounds this"
        } else if shrinker == "0" {
            s += "; shrink_underused=0 keeps them whole under pressure"
        } else if none >= n - 1 {
            s += "; kept under pressure (max_ptes_none=\(n - 1) turns the shrinker off): a lower max_ptes_none bounds this, at the price of coverage"
        } else if returnedKB != nil {
            s += "; kept under pressure (\(zeros) zeros, not above max_ptes_none=\(none))"
        }
        return s
    }

    static func yesNo(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? "-" }
    static func signed(_ v: Int64) -> String { v >= 0 ? "+\(v)" : "\(v)" }
}
