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
        out.append("")
        var t = TextTable(header: ["SCENARIO", "CAN RUN", "WHY"])
        for s in r.scenarios { t.add([s.scenario, s.canRun ? "yes" : "no", s.why]) }
        out.append(t.render())
        return out.joined(separator: "\n")
    }
}
