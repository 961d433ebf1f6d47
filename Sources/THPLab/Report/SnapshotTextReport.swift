/// `thplab snapshot` as text: per process a summary and a table of VMAs.
public enum SnapshotTextReport {
    public struct Options: Sendable, Equatable {
        public var allVMAs = false
        public var extents = false
        /// VMAs (and processes) shown, largest resident first; 0: all.
        public var top = 20
        /// Show VMAs under 2 MiB one by one instead of one summed line.
        public var small = false
        /// Per-process VMA tables even when the snapshot holds many.
        public var vmas = false
        public init(allVMAs: Bool = false, extents: Bool = false, top: Int = 20, small: Bool = false, vmas: Bool = false) {
            self.allVMAs = allVMAs
            self.extents = extents
            self.top = top
            self.small = small
            self.vmas = vmas
        }
    }

    static let pmdSize = UInt(PageGeometry.pmdSize)

    public static func render(_ s: SnapshotResult, _ o: Options = Options()) -> String {
        var out: [String] = []
        if let rollup = s.rollup, s.processes.count > 1 || !rollup.targets.isEmpty {
            out.append(contentsOf: rollupLines(rollup, s.processes, top: o.top))
            out.append("")
        }
        if s.processes.count <= 1 || o.vmas || s.rollup == nil {
            for p in s.processes { out.append(contentsOf: processBlock(p, o)) }
        } else {
            out.append("per-process VMA tables: --vmas; objects shared between processes: --objects")
        }
        if let objects = s.objects {
            out.append(contentsOf: objects.isEmpty ? ["no object is mapped by more than one process of the target"]
                                                   : ObjectsTextReport.lines(objects, limit: nil))
            out.append("")
        }
        if let sys = s.system { out.append(contentsOf: systemLines(sys)) }
        if let numa = s.numa { out.append(contentsOf: numaLines(numa)) }
        out.append(contentsOf: s.notes.map { "note: \($0)" })
        if s.processes.isEmpty && s.system == nil { out.append("nothing to show: give --pid, --comm, --cgroup, --all, --self or --system") }
        return out.joined(separator: "\n")
    }

    static func processBlock(_ p: ProcessCoverage, _ o: Options) -> [String] {
        var out = [processLine(p)]
        let resident = p.vmas.filter { o.allVMAs || $0.pages.resident + $0.pages.swapped > 0 }
            .sorted { ($0.pages.resident, $1.start) > ($1.pages.resident, $0.start) }
        let tiny = o.small || o.allVMAs ? [] : resident.filter { $0.end - $0.start < pmdSize }
        let big = o.small || o.allVMAs ? resident : resident.filter { $0.end - $0.start >= pmdSize }
        let shown = o.top > 0 ? Array(big.prefix(o.top)) : big
        if !shown.isEmpty {
            let nodes = shown.contains { $0.numa != nil }
            var t = TextTable(header: ["RANGE", "KIND", "RSS", "PMD", "PTE-THP", "MTHP", "SMALL", "SWAP", "PMD%", "SMAPS"]
                              + (nodes ? ["NODES"] : []) + ["NAME"])
            for v in shown {
                let kb = v.pages.kb()
                t.add([range(v.start, v.end), v.kind.rawValue, size(v.pages.resident * PageGeometry.pageKB)]
                      + [size(kb["pmd"] ?? 0), size(kb["pte_thp"] ?? 0), v.pages.mthpCell(size)]
                      + [PageClass.small, .swapped].map { size(kb[$0.rawValue] ?? 0) }
                      + [String(format1(v.coveragePercent)), v.crosscheck.agree ? "ok" : "PMD \(v.crosscheck.smapsPmdKB)k"]
                      + (nodes ? [nodeCell(v.numa)] : []) + [v.backing.name])
                if o.extents {
                    for e in v.extents {
                        t.add(["  " + range(e.start, e.end)] + Array(repeating: "", count: nodes ? 10 : 9) + [extentLine(e)])
                    }
                }
            }
            out.append(t.render(indent: "  "))
        }
        if big.count > shown.count {
            let rest = big.dropFirst(shown.count)
            out.append("  +\(rest.count) more VMA(s) of 2 MiB or more: \(sizeOf(rest)) resident (--top 0 shows them)")
        }
        if !tiny.isEmpty {
            out.append("  +\(tiny.count) VMA(s) under 2 MiB (no PMD possible): \(sizeOf(tiny[...])) resident (--small shows them)")
        }
        for n in p.notes { out.append("  note: \(n)") }
        out.append("")
        return out
    }

    static func sizeOf(_ vmas: ArraySlice<VmaCoverage>) -> String {
        size(vmas.reduce(0) { $0 + $1.pages.resident } * 4)
    }

    /// The target's processes (largest first), its cgroups and the total.
    static func rollupLines(_ r: TargetRollup, _ processes: [ProcessCoverage], top: Int) -> [String] {
        var out = ["target \(r.targets.joined(separator: " ")): \(processes.count) process(es), " + rollupCells(r.total)
                   + " (summed over processes: shared memory counts in each)"]
        let sorted = processes.sorted { ($0.totals.resident, $1.pid) > ($1.totals.resident, $0.pid) }
        let shown = top > 0 ? Array(sorted.prefix(top)) : sorted
        var t = TextTable(header: ["PID", "COMM", "RSS", "PMD", "PTE-THP", "MTHP", "SMALL", "SWAP", "PMD%", "CGROUP"])
        for p in shown {
            let kb = p.totals.kb()
            t.add(["\(p.pid)", p.comm, size(p.totals.resident * 4)] + [PageClass.pmd, .pteThp, .mthp, .small, .swapped].map { size(kb[$0.rawValue] ?? 0) }
                  + [format1(p.coveragePercent), p.cgroup ?? "-"])
        }
        out.append(t.render(indent: "  "))
        if sorted.count > shown.count {
            let rest = sorted.dropFirst(shown.count)
            out.append("  +\(rest.count) more process(es): \(size(rest.reduce(0) { $0 + $1.totals.resident } * 4)) resident (--top 0 shows them)")
        }
        if r.cgroups.count > 1 {
            out.append("by cgroup:")
            var c = TextTable(header: ["CGROUP", "PROCS", "RSS", "PMD", "PMD%"])
            for g in (top > 0 ? Array(r.cgroups.prefix(top)) : r.cgroups) {
                c.add([g.name, "\(g.processes)", size(g.pages.resident * 4), size(g.pages.pmd * 4), format1(g.coveragePercent)])
            }
            out.append(c.render(indent: "  "))
        }
        return out
    }

    static func rollupCells(_ l: RollupLine) -> String {
        "resident \(size(l.pages.resident * 4)), pmd \(size(l.pages.pmd * 4)) (\(format1(l.coveragePercent))%), pte-thp \(size(l.pages.pteThp * 4)), mthp \(l.pages.mthpCell(size)), small \(size(l.pages.small * 4))"
    }

    static func processLine(_ p: ProcessCoverage) -> String {
        let t = p.totals
        var line = "pid \(p.pid) (\(p.comm)): resident \(size(t.resident * 4)), pmd \(size(t.pmd * 4)) (\(format1(p.coveragePercent))%), pte-thp \(size(t.pteThp * 4)), mthp \(t.mthpCell(size)), small \(size(t.small * 4)), swapped \(size(t.swapped * 4)); anon \(size(t.anon * 4))"
        line += " [\(p.method)\(p.pfnsVisible ? "" : ", PFNs hidden")\(p.complete ? "" : ", INCOMPLETE")]"
        return line
    }

    static func extentLine(_ e: ExtentCoverage) -> String {
        if let letters = e.pageClasses { return letters }
        return PageClass.allCases.filter { e.pages[$0] > 0 }.map { c in
            "\(c.label) \(e.pages[c])" + (c == .mthp ? " (" + FolioSizes.describe(e.pages.mthpBySize) + ")" : "")
        }.joined(separator: ", ")
    }

    public static func systemLines(_ c: SystemCounters) -> [String] {
        var out = ["system:"]
        out.append("  meminfo: " + c.meminfo.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) kB" }.joined(separator: ", "))
        out.append("  khugepaged: " + c.khugepaged.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let v = c.vmstat.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        out.append("  vmstat (non-zero): " + (v.isEmpty ? "none" : v.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        out += PerSizeTable.lines(c.perSize, title: "per-size counters (since boot)", movedOnly: false)
        return out
    }

    /// Pages per node of a VMA, from numa_maps: `0:2M 1:2M`.
    static func nodeCell(_ e: NumaMapsEntry?) -> String {
        guard let e else { return "-" }
        return e.kbPerNode.keys.sorted().map { "\($0):\(size(e.kbPerNode[$0]!))" }.joined(separator: " ")
    }

    public static func numaLines(_ t: NumaTopology) -> [String] {
        ["NUMA nodes:"] + t.nodes.map { n in
            "  node \(n.node): \(size(n.memTotalKB)) (free \(size(n.memFreeKB))), CPUs \(n.cpus.isEmpty ? "none" : n.cpus), distances \(n.distances.map(String.init).joined(separator: " ")); "
                + NumaTopology.hugeLines.map { "\($0) \(n.hugeKB[$0] ?? 0) kB" }.joined(separator: ", ")
        }
    }

    /// kB as a short human size.
    static func size(_ kb: Int) -> String {
        if kb == 0 { return "0" }
        if kb >= 1 << 20 && kb % (1 << 20) == 0 { return "\(kb >> 20)G" }
        if kb >= 10 << 10 { return "\(kb >> 10)M" }
        return "\(kb)k"
    }

    static func format1(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
