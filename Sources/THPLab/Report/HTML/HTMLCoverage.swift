import FoundationEssentials

/// `snapshot`, `diff` and `watch` as HTML sections.
enum HTMLCoverage {
    /// The VMAs worth a strip: those with THP of any kind or 2 MiB resident,
    /// at most 40, largest first.
    static let maxVMAs = 40, maxCells = 4096

    static func snapshot(_ r: SnapshotResult) -> String {
        var s = "<h2>snapshot</h2>" + HTML.facts([("kernel", r.kernelRelease), ("taken", Date(timeIntervalSince1970: r.takenAt).description)])
        if let rollup = r.rollup { s += self.rollup(rollup, r.processes) }
        if let objects = r.objects { s += self.objects(objects) }
        let largest = r.processes.sorted { $0.totals.resident > $1.totals.resident }.prefix(maxProcesses)
        for p in r.processes where largest.contains(where: { $0.pid == p.pid }) {
            s += "<h3>pid \(p.pid) \(HTML.escape(p.comm)): \(SnapshotTextReport.format1(p.coveragePercent)) % PMD coverage</h3>"
            s += HTML.table(PageClass.allCases.map(\.label), [PageClass.allCases.map { "<span class=\"num\">\(p.totalsKB[$0.rawValue] ?? 0) kB</span>" }])
            let shown = p.vmas.filter { v in v.pages.pmd + v.pages.pteThp + v.pages.mthp > 0 || v.pages.resident >= 512 }
                .sorted { $0.pages.resident > $1.pages.resident }.prefix(maxVMAs)
            if shown.isEmpty { s += "<p class=\"muted\">No VMA with 2 MiB resident or any THP.</p>"; continue }
            s += ExtentStrip(rows: shown.sorted { $0.start < $1.start }.map { v in
                ExtentStrip.Row(label: "\(HTML.hex(v.start)) \(v.backing.name)",
                                cells: v.extents.prefix(maxCells).map { (HTML.hex($0.start), $0.pages) })
            }).svg()
            s += HTML.table(["VMA", "backing", "pmd", "pte-thp", "mthp", "small", "swapped", "coverage"], shown.map { v in
                ["\(HTML.hex(v.start))-\(HTML.hex(v.end))", HTML.escape(v.backing.name)]
                    + [PageClass.pmd, .pteThp, .mthp, .small, .swapped].map { "<span class=\"num\">\(v.kb[$0.rawValue] ?? 0) kB</span>" }
                    + ["\(SnapshotTextReport.format1(v.coveragePercent)) %"]
            })
            s += HTML.list(p.notes)
        }
        if let system = r.system { s += HTMLExperiments.perSize(system.perSize, title: "Per-size counters (since boot)", movedOnly: false) }
        return s + HTML.list(r.notes)
    }

    static let maxProcesses = 20

    static func kbCell(_ kb: Int) -> String { "<span class=\"num\">\(kb) kB</span>" }

    /// The target's processes, its cgroups and its total.
    static func rollup(_ r: TargetRollup, _ processes: [ProcessCoverage]) -> String {
        var s = "<h3>target \(HTML.escape(r.targets.joined(separator: " "))): \(r.total.processes) process(es), \(SnapshotTextReport.format1(r.total.coveragePercent)) % PMD coverage</h3>"
        s += "<p class=\"muted\">Summed over processes: shared memory counts in every process that maps it.</p>"
        let rows = processes.sorted { $0.totals.resident > $1.totals.resident }.prefix(maxProcesses).map { p in
            ["\(p.pid)", HTML.escape(p.comm), HTML.escape(p.cgroup ?? "-")] + [p.totals.resident * 4, p.totals.pmd * 4, p.totals.pteThp * 4, p.totals.small * 4].map(kbCell)
                + ["\(SnapshotTextReport.format1(p.coveragePercent)) %"]
        }
        s += HTML.table(["pid", "comm", "cgroup", "resident", "pmd", "pte-thp", "small", "coverage"], Array(rows))
        s += HTML.table(["cgroup", "processes", "resident", "pmd", "coverage"], (r.cgroups + [r.total]).map { g in
            [HTML.escape(g.name), "\(g.processes)", kbCell(g.pages.resident * 4), kbCell(g.pages.pmd * 4), "\(SnapshotTextReport.format1(g.coveragePercent)) %"]
        })
        return s + HTML.list(r.unreadNote.map { [$0] } ?? [])
    }

    /// Objects mapped by several processes, and each process's outlook.
    static func objects(_ objects: [MappedObject]) -> String {
        var s = "<h3>objects mapped by several processes</h3>"
        if objects.isEmpty { return s + "<p class=\"muted\">No object is mapped by more than one process of the target.</p>" }
        for o in objects.prefix(maxProcesses) {
            s += "<h4>\(HTML.escape(o.name)) (\(HTML.escape(o.kind.rawValue)), inode \(o.inode)): \(o.residentKB) kB resident, \(o.hugeKB) kB in huge folios, PMD-mapped in \(o.pmdMappedIn) of \(o.processes.count)</h4>"
            s += HTML.table(["pid", "comm", "resident", "pmd", "pte-thp", "small", "next fault"], o.processes.map { u in
                ["\(u.pid)", HTML.escape(u.comm)] + [u.residentKB, u.pmdKB, u.pteThpKB, u.smallKB].map(kbCell) + [HTML.escape(u.outlook)]
            })
        }
        return s
    }

    /// explain: the summary, what holds memory back with the remedies, and
    /// the objects shared by processes.
    static func explain(_ r: ExplainResult) -> String {
        var s = "<h2>explain \(HTML.escape((r.targets ?? ["--pid \(r.pid)"]).joined(separator: " ")))</h2>"
        s += HTML.facts([("kernel", r.kernelRelease)] + [Knob.enabled, .shmemEnabled, .maxPtesNone].compactMap { k in r.knobs[k].map { (k.rawValue, $0) } })
        if let sum = r.summary {
            s += "<p>\(sum.processes) process(es): resident \(sum.residentKB) kB, PMD-mapped \(sum.pmdKB) kB (\(SnapshotTextReport.format1(sum.coveragePercent)) %)</p>"
        }
        if let blockers = r.blockers, !blockers.isEmpty {
            s += "<h3>what holds the rest back, largest first</h3>"
            s += HTML.table(["held back", "blocker", "VMAs", "largest", "why", "remedy", "thplab now"], blockers.map { b in
                let largest = b.largest.map { "\($0.pid) \(HTML.hex($0.start)) \($0.name) \($0.kb) kB" }.joined(separator: "; ")
                let remedy = "[\(b.remedy.evidence)\(b.remedy.restart ? "; restart needed" : "")] \(b.remedy.action)"
                    + (b.remedy.commands.isEmpty ? "" : "\n" + b.remedy.commands.joined(separator: "\n"))
                return [kbCell(b.kb), HTML.escape(b.title), "\(b.vmaCount) in \(b.processCount) process(es)", HTML.escape(largest),
                        HTML.escape(b.remedy.cause ?? ""), "<pre>\(HTML.escape(remedy))</pre>", HTML.escape(b.remedy.thplabNow ?? "")]
            })
        }
        if let objects = r.objects { s += self.objects(objects) }
        return s + HTML.list(r.notes)
    }

    /// A small before/after bar of PMD coverage.
    static func bars(_ before: Double?, _ after: Double?) -> String {
        func bar(_ v: Double?, _ y: Int, _ color: String) -> String {
            "<rect x=\"0\" y=\"\(y)\" width=\"\(Int((v ?? 0) * 1.6))\" height=\"8\" fill=\"\(color)\"/>"
        }
        return "<svg class=\"bars\" width=\"170\" height=\"20\" xmlns=\"http://www.w3.org/2000/svg\">\(bar(before, 1, "#9e9e9e"))\(bar(after, 11, "#2e7d32"))</svg>"
    }

    static func diff(_ d: DiffResult) -> String {
        var s = "<h2>diff</h2><p class=\"legend\"><span><i class=\"swatch\" style=\"background:#9e9e9e\"></i>coverage before</span><span><i class=\"swatch\" style=\"background:#2e7d32\"></i>coverage after</span></p>"
        for p in d.processes {
            s += "<h3>pid \(p.pid) \(HTML.escape(p.comm)): \(SnapshotTextReport.format1(p.coverageBefore)) % → \(SnapshotTextReport.format1(p.coverageAfter)) %</h3>"
            s += "<p>became huge: \(p.becameHugeKB) kB; stopped being huge: \(p.stoppedHugeKB) kB</p>"
            let vmas = p.vmas.filter { $0.change != "unchanged" || $0.pmdDeltaKB != 0 || ($0.coverageAfter ?? 0) > 0 }
            s += HTML.table(["VMA", "backing", "presence", "before", "after", "PMD change", "", "change"], vmas.map { v in
                ["\(HTML.hex(v.start))-\(HTML.hex(v.end))", HTML.escape(v.backing.name), HTML.escape(v.presence),
                 v.coverageBefore.map { "\(SnapshotTextReport.format1($0)) %" } ?? "-", v.coverageAfter.map { "\(SnapshotTextReport.format1($0)) %" } ?? "-",
                 "<span class=\"num\">\(v.pmdDeltaKB > 0 ? "+" : "")\(v.pmdDeltaKB) kB</span>", bars(v.coverageBefore, v.coverageAfter), HTML.escape(v.change)]
            })
        }
        if let system = d.system { s += HTMLExperiments.perSize(system.perSize, title: "Per-size counters between the snapshots (whole system)", movedOnly: true) }
        return s + HTML.list(d.notes)
    }

    static func watch(_ w: WatchResult) -> String {
        var s = "<h2>watch pid \(w.pid) \(HTML.escape(w.comm))</h2>"
        s += HTML.facts([("kernel", w.kernelRelease), ("interval", "\(w.intervalMs) ms"), ("samples", "\(w.samples.count)"),
                         ("ended", w.ended), ("method", w.method)])
        let t = w.samples.map { String(cFormat: "%.2f", $0.t) }
        s += LineChart(title: "PMD coverage over time", xLabel: "time (s)", yLabel: "PMD-mapped (% of resident)",
                       series: [.init(name: "coverage", points: zip(t, w.samples).map { ($0, $1.coveragePercent) })], yMax: 100,
                       numericX: true).svg()
        s += LineChart(title: "Memory over time", xLabel: "time (s)", yLabel: "MiB", series: [
            .init(name: "resident", points: zip(t, w.samples).map { ($0, Double($1.residentKB) / 1024) }),
            .init(name: "PMD-mapped", points: zip(t, w.samples).map { ($0, Double($1.pmdKB) / 1024) }),
            .init(name: "swapped", points: zip(t, w.samples).map { ($0, Double($1.swappedKB) / 1024) }),
        ], yMax: nil, numericX: true).svg()
        return s
    }
}
