/// `sweep mthp` as text: per memory, one row per point (the policy values,
/// then the folio sizes of each fault step), then the checks.
public enum MthpSweepTextReport {
    public static func render(_ r: MthpSweepResult) -> String {
        var out = ["thplab sweep mthp: kernel \(r.kernelRelease), \(r.points.count) point(s)"]
        let names = r.axes.map(\.name)
        for m in r.points.flatMap({ $0.steps.map(\.memory) }).uniqued() {
            let labels = r.points.first?.steps.filter { $0.memory == m && $0.phase == .fault }.map(\.label) ?? []
            out.append("")
            out.append("\(m.rawValue), folio sizes at fault:")
            var t = TextTable(header: names.map { $0.replacing("hugepages-", with: "") } + labels.map { $0.uppercased() } + ["OK"])
            for p in r.points {
                let cells = labels.map { l in p.steps.first { $0.memory == m && $0.label == l }.map { FolioSizes.describe(MthpSteps.unkeyed($0.seen)) } ?? "-" }
                let ok = p.steps.filter { $0.memory == m }.allSatisfy(\.ok)
                t.add(names.map { p.knobs[$0] ?? "" } + cells + [ok ? "ok" : "NO"])
            }
            out.append(t.render(indent: "  "))
        }
        out.append("")
        for c in r.checks { out.append("check \(c.name): \(c.held ? "held" : "FAILED") - \(c.detail)") }
        out += RetractTextReport.resultLines(ok: r.ok, differences: r.differences)
        return out.joined(separator: "\n")
    }
}
