
/// `run mthp` as text: one table per memory (step, VMA, folios before and
/// after, the model's verdict, the per-size counters that moved), why the
/// allowed sizes were left out where they were, and what each step shows.
public enum MthpTextReport {
    public static func render(_ r: MthpResult) -> String {
        var out = ["thplab run mthp: kernel \(r.kernelRelease)"]
        for m in r.steps.map(\.memory).uniqued() {
            out.append("policies for \(m.rawValue): \(r.policies[m.rawValue] ?? "?")")
        }
        if !r.knobsChanged.isEmpty {
            // One line per memory's knob file, so that the line fits a screen.
            let changes = r.knobsChanged.map { "\($0.name.replacing("hugepages-", with: "")) \($0.from)->\($0.to)" }
            let byFile = Dictionary(grouping: changes) { $0.split(separator: " ")[0].split(separator: "/").last.map(String.init) ?? "" }
            out.append("set for the run (put back afterwards):")
            for file in byFile.keys.sorted() { out.append("  " + byFile[file]!.joined(separator: ", ")) }
        }
        if let s = r.swap { out.append("swap: \(s)" + (r.swapRotational.map { $0 ? " (rotational)" : " (non-rotational)" } ?? "")) }
        for m in r.steps.map(\.memory).uniqued() {
            let steps = r.steps.filter { $0.memory == m }
            out.append("")
            out.append("\(m.rawValue):")
            var t = TextTable(header: ["STEP", "VMA", "BEFORE", "AFTER", "MODEL", "COUNTERS MOVED"])
            for s in steps { t.add(row(s)) }
            out.append(t.render(indent: "  "))
            let left = steps.filter { $0.phase == .fault }.compactMap { s -> String? in
                let why = s.excluded.filter { $0.value != "policy never" }
                guard !why.isEmpty else { return nil }
                return "  \(s.label): " + why.keys.compactMap(Int.init).sorted(by: >).map { "\(FolioSizes.kB($0)) \(why[String($0)]!)" }.joined(separator: "; ")
            }
            if !left.isEmpty { out.append("  sizes the policy allows but the VMA excludes:"); out += left.map { "  " + $0 } }
            if m == .tmpfs {
                out += steps.filter { $0.phase == .fault }.map(\.rule).uniqued().map { "  faults: " + $0 }
            }
            for s in steps where s.phase != .fault {
                out.append("  \(s.label): \(s.rule)")
                if let d = s.diagnosis {
                    out.append("    the kernel: \(d.reason)" + (d.inferred ? " [inferred]" : ""))
                    for e in DiagnosisTextReport.folded(d.events).prefix(3) { out.append("      " + e) }
                }
            }
        }
        out.append("")
        if let p = r.deltas.perSize {
            out += PerSizeTable.lines(p, title: "per-size counters over the run (whole system)", movedOnly: true, indent: "")
        }
        out += r.notes.map { "note: \($0)" }
        out += RetractTextReport.resultLines(ok: r.ok, differences: r.differences)
        return out.joined(separator: "\n")
    }

    static func row(_ s: MthpStep) -> [String] {
        var vma = FolioSizes.kB(s.lengthKB)
        if s.label == "offset" { vma += s.memory == .anon ? " at +4k" : ", offset 0 at +4k" }
        if s.advised { vma += ", MADV_HUGEPAGE" }
        let before = s.before.map { FolioSizes.describe(MthpSteps.unkeyed($0)) } ?? "-"
        var after = FolioSizes.describe(MthpSteps.unkeyed(s.seen))
        if s.phase == .partial, let size = s.before?.keys.compactMap(Int.init).max(), size > MthpLayout.pageKB,
           let b = s.before?[String(size)], let a = s.seen[String(size)], b - a == size / MthpLayout.pageKB {
            let rest = s.seen.filter { $0.key != String(size) }
            after = "\(FolioSizes.kB(size)) x\(b * MthpLayout.pageKB / size - 2) + 2 half-mapped" + (rest.isEmpty ? "" : ", " + FolioSizes.describe(MthpSteps.unkeyed(rest)))
        }
        if s.swappedPages > 0 { after = (s.seen.isEmpty ? "" : after + ", ") + "\(s.swappedPages * PageGeometry.pageKB)k swapped" }
        let model = s.ok ? "as expected" : "expected " + FolioSizes.describe(MthpSteps.unkeyed(s.expected))
        // nr_anon (folios held) follows the allocations and frees; JSON has it.
        let moved = s.counters.sortedSizes.reversed().compactMap { size -> String? in
            let c = s.counters.sizes[size]!.filter { $0.key != "nr_anon" }
                .sorted { (PerSizeStats.order($0.key), $0.key) < (PerSizeStats.order($1.key), $1.key) }
            return c.isEmpty ? nil : "\(FolioSizes.kB(size)) " + c.map { "\($0.key) \(RetractTextReport.signed($0.value))" }.joined(separator: " ")
        }
        let name = s.phase == .fault ? "fault \(s.label)" : s.label
        return [name, vma, before, after, model, moved.isEmpty ? "-" : moved.joined(separator: "; ")]
    }
}

extension Sequence where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
