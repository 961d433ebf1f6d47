/// `thplab snapshot` as text: per process a summary and a table of VMAs.
public enum SnapshotTextReport {
    public struct Options: Sendable {
        public var allVMAs = false
        public var extents = false
        public init(allVMAs: Bool = false, extents: Bool = false) {
            self.allVMAs = allVMAs
            self.extents = extents
        }
    }

    public static func render(_ s: SnapshotResult, _ o: Options = Options()) -> String {
        var out: [String] = []
        for p in s.processes {
            out.append(processLine(p))
            let shown = p.vmas.filter { o.allVMAs || $0.pages.resident + $0.pages.swapped > 0 }
            if !shown.isEmpty {
                let nodes = shown.contains { $0.numa != nil }
                var t = TextTable(header: ["RANGE", "KIND", "RSS", "PMD", "PTE-THP", "MTHP", "SMALL", "SWAP", "PMD%", "SMAPS"]
                                  + (nodes ? ["NODES"] : []) + ["NAME"])
                for v in shown {
                    let kb = v.pages.kb()
                    t.add([range(v.start, v.end), v.kind, size(v.pages.resident * 4)]
                          + [PageClass.pmd, .pteThp, .mthp, .small, .swapped].map { size(kb[$0.rawValue] ?? 0) }
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
            for n in p.notes { out.append("  note: \(n)") }
            out.append("")
        }
        if let sys = s.system { out.append(contentsOf: systemLines(sys)) }
        if let numa = s.numa { out.append(contentsOf: numaLines(numa)) }
        out.append(contentsOf: s.notes.map { "note: \($0)" })
        if s.processes.isEmpty && s.system == nil { out.append("nothing to show: give --pid, --self or --system") }
        return out.joined(separator: "\n")
    }

    static func processLine(_ p: ProcessCoverage) -> String {
        let t = p.totals
        var line = "pid \(p.pid) (\(p.comm)): resident \(size(t.resident * 4)), pmd \(size(t.pmd * 4)) (\(format1(p.coveragePercent))%), pte-thp \(size(t.pteThp * 4)), mthp \(size(t.mthp * 4)), small \(size(t.small * 4)), swapped \(size(t.swapped * 4)); anon \(size(t.anon * 4))"
        line += " [\(p.method)\(p.pfnsVisible ? "" : ", PFNs hidden")\(p.complete ? "" : ", INCOMPLETE")]"
        return line
    }

    static func extentLine(_ e: ExtentCoverage) -> String {
        if let letters = e.pageClasses { return letters }
        return PageClass.allCases.filter { e.pages[$0] > 0 }.map { "\($0.label) \(e.pages[$0])" }.joined(separator: ", ")
    }

    public static func systemLines(_ c: SystemCounters) -> [String] {
        var out = ["system:"]
        out.append("  meminfo: " + c.meminfo.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) kB" }.joined(separator: ", "))
        out.append("  khugepaged: " + c.khugepaged.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let v = c.vmstat.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        out.append("  vmstat (non-zero): " + (v.isEmpty ? "none" : v.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
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
