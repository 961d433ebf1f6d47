/// `thplab doctor` as text.
public enum DoctorTextReport {
    public static func render(_ r: DoctorReport) -> String {
        var out = ["kernel \(r.kernelRelease) (\(r.machine))", ""]
        var checks = TextTable(header: ["CHECK", "", "DETAIL"])
        for c in r.checks { checks.add([c.name, c.ok == true ? "yes" : c.ok == false ? "NO" : "?", c.detail]) }
        out.append(checks.render())
        if r.thpSysfs {
            out.append("")
            out.append(KnobsTextReport.render(r.knobs))
            out.append("khugepaged counters: " + r.counters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let c = r.capabilities {
            out.append("")
            out.append(contentsOf: capabilityLines(c))
        }
        out.append("")
        var t = TextTable(header: ["SCENARIO", "CAN RUN", "WHY"])
        for s in r.scenarios { t.add([s.scenario, s.canRun ? "yes" : "no", s.why]) }
        out.append(t.render())
        return out.joined(separator: "\n")
    }

    /// The capability table, a line each.
    static func capabilityLines(_ c: Capabilities) -> [String] {
        func list(_ xs: [String]) -> String { xs.isEmpty ? "none" : xs.joined(separator: " ") }
        var t = TextTable(header: ["CAPABILITY", "THIS KERNEL"])
        t.add(["THP sizes", c.sizeDirectories.isEmpty ? "none (PMD only; multi-size THP came with 6.8)"
                                                        : list(c.sizeDirectories.map { String($0.dropFirst(10)) })])
        t.add(["per-size stats", c.statsFiles.isEmpty ? "none" : "\(c.statsFiles.count) files per size (--json lists them)"])
        t.add(["huge_memory tracepoints", c.tracepoints.map(list) ?? "tracefs not mounted (thplab mounts it only for a run)"])
        if let r = c.scanResults { t.add(["scan results", list(r)]) }
        t.add(["smaps fields", "\(c.smapsFields.count); for THP: " + list(c.thpSmapsFields)])
        t.add(["THP_enabled in status", c.statusTHPEnabled ? "yes" : "no"])
        t.add(["PAGEMAP_SCAN", c.pagemapScan ? "yes" : "no"])
        t.add(["MADV_COLLAPSE", c.madviseCollapse.map { $0 ? "yes" : "no" } ?? "?"])
        t.add(["process_madvise(MADV_COLLAPSE)", c.processMadviseCollapse.map { $0 ? "yes" : "no" } ?? "?"])
        return [t.render()]
    }
}
