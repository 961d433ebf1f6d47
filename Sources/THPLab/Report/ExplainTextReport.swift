/// `thplab explain` as text: the triage first (what holds memory back,
/// largest first, with the remedy), shared objects, then per-VMA blocks
/// only on request.
public enum ExplainTextReport {
    public struct Options: Sendable {
        /// Per-VMA blocks (`--vmas`, or `--addr`).
        public var vmas = false
        /// With `vmas`: VMAs with nothing resident too.
        public var all = false
        public init(vmas: Bool = false, all: Bool = false) {
            self.vmas = vmas
            self.all = all
        }
    }

    static func size(_ kb: Int) -> String { SnapshotTextReport.size(kb) }

    public static func render(_ r: ExplainResult, _ o: Options = Options()) -> String {
        var out = [header(r)]
        if let s = r.summary {
            out.append("resident \(size(s.residentKB)), PMD-mapped \(size(s.pmdKB)) (\(SnapshotTextReport.format1(s.coveragePercent))%)"
                       + (s.processes > 1 ? " (summed over processes: shared memory counts in each)" : ""))
        }
        if let blockers = r.blockers {
            out.append(contentsOf: triageLines(blockers))
        }
        if let objects = r.objects, !objects.isEmpty {
            out.append("")
            out.append(contentsOf: ObjectsTextReport.lines(objects, limit: 3))
        }
        if o.vmas {
            out.append(contentsOf: vmaBlocks(r, all: o.all))
        } else if r.vmas.count > 0 {
            out.append("")
            out.append("per-VMA detail: --vmas (\(r.vmas.count) VMAs), or --addr ADDR for one; --json for everything")
        }
        out.append(contentsOf: r.notes.map { "note: \($0)" })
        return out.joined(separator: "\n")
    }

    static func header(_ r: ExplainResult) -> String {
        let who: String
        if let ps = r.processes, ps.count != 1 || (r.targets ?? []).contains(where: { !$0.hasPrefix("--pid") }) {
            who = "\(ps.count) process(es) (\((r.targets ?? []).joined(separator: " ")))"
        } else {
            who = "pid \(r.pid) (\(r.comm))"
        }
        let knobs = [Knob.enabled, .shmemEnabled, .maxPtesNone].compactMap { k in r.knobs[k].map { "\(k.shortName)=\($0)" } }
        return "\(who) on kernel \(r.kernelRelease): \(knobs.joined(separator: ", "))"
    }

    static func triageLines(_ blockers: [RankedBlocker]) -> [String] {
        let main = blockers.filter { $0.kind != .tooSmall }
        var out: [String] = []
        if main.isEmpty && blockers.isEmpty { return ["nothing held back: every resident page in a whole 2 MiB extent is PMD-mapped"] }
        out.append("")
        out.append("what holds the rest back, largest first:")
        for (i, b) in main.enumerated() {
            let vmas = b.largest.map { "\($0.pid) \(range($0.start, $0.end)) \($0.name.isEmpty ? "[anon]" : $0.name) \(size($0.kb))" }.joined(separator: "; ")
            let more = b.vmaCount > b.largest.count ? " (+\(b.vmaCount - b.largest.count) more VMA(s))" : ""
            out.append(String(cFormat: "%2d. ", i + 1) + pad(size(b.kb), 6) + "  " + b.title + " — \(b.vmaCount) VMA(s) in \(b.processCount) process(es)")
            out.append("      largest: " + vmas + more)
            if let cause = b.remedy.cause { out.append("      why: " + cause) }
            out.append("      remedy [\(b.remedy.evidence)\(b.remedy.restart ? "; restart needed" : "")]: " + b.remedy.action)
            for c in b.remedy.commands { out.append("        " + c) }
            if !b.also.isEmpty { out.append("      also: " + b.also.map(\.title).joined(separator: "; ")) }
            if let now = b.remedy.thplabNow { out.append("      thplab now: " + now) }
        }
        if let small = blockers.first(where: { $0.kind == .tooSmall }) {
            out.append("    \(pad(size(small.kb), 6))  outside any whole 2 MiB extent, in \(small.vmaCount) VMA(s) (libraries, stacks, small mappings: no PMD possible)")
        }
        return out
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

    static func vmaBlocks(_ r: ExplainResult, all: Bool) -> [String] {
        var out: [String] = []
        for v in r.vmas where all || (v.classesKB["pmd"] ?? 0) + (v.classesKB["pte_thp"] ?? 0) + (v.classesKB["mthp"] ?? 0) + (v.classesKB["small"] ?? 0) > 0 {
            out.append("")
            out.append("\(v.pid.map { "\($0) " } ?? "")\(range(v.start, v.end)) \(v.kind) \(v.name)")
            let classes = ["pmd", "pte_thp", "mthp", "small", "swapped"].compactMap { k in (v.classesKB[k] ?? 0) > 0 ? "\(k) \(size(v.classesKB[k]!))" : nil }
            out.append("  now: " + (classes.isEmpty ? "nothing resident" : classes.joined(separator: ", ")) + "; PMD coverage \(SnapshotTextReport.format1(v.coveragePercent))%")
            out.append("  THPeligible \(v.thpEligible.map { $0 ? "1" : "0" } ?? "?"), VmFlags \(v.flags.isEmpty ? "-" : v.flags.joined(separator: " ")), whole 2 MiB extents \(v.wholeExtents)" + (v.aligned.map { $0 ? ", offset aligned" : ", offset MISALIGNED" } ?? ""))
            for b in v.blockers { out.append("  - " + b) }
            if let sizes = v.sizes { out.append("  folio sizes at fault: " + SizeVerdict.describe(sizes)) }
            out.append("  => " + v.verdict)
        }
        return out
    }
}

/// Objects mapped by several processes, as text: in full (snapshot
/// --objects), or compact (explain: the largest few, one line per outlook).
public enum ObjectsTextReport {
    public static func lines(_ objects: [MappedObject], limit: Int?) -> [String] {
        let size = SnapshotTextReport.size
        var out = ["objects mapped by several processes (largest first):"]
        let shown = limit.map { Array(objects.prefix($0)) } ?? objects
        for o in shown {
            out.append("  \(o.name.isEmpty ? "?" : o.name) (\(o.kind), dev \(o.device) inode \(o.inode)): \(size(o.residentKB)) resident, \(size(o.hugeKB)) in huge folios"
                       + (o.mthpKB > 0 ? ", \(size(o.mthpKB)) in mTHP" : "")
                       + "; PMD-mapped in \(o.pmdMappedIn) of \(o.processes.count) processes")
            if limit != nil {
                let groups = Dictionary(grouping: o.processes, by: \.outlook)
                for (outlook, uses) in groups.sorted(by: { $0.value.count > $1.value.count }) {
                    let pids = uses.prefix(6).map { String($0.pid) }.joined(separator: " ") + (uses.count > 6 ? " +\(uses.count - 6)" : "")
                    out.append("    \(uses.count) process(es) (\(pids)): \(outlook)")
                }
                continue
            }
            var t = TextTable(header: ["PID", "COMM", "RESIDENT", "PMD", "PTE-THP", "SMALL", "NEXT FAULT"])
            for u in o.processes {
                t.add(["\(u.pid)", u.comm, size(u.residentKB), size(u.pmdKB), size(u.pteThpKB), size(u.smallKB), u.outlook])
            }
            out.append(t.render(indent: "    "))
        }
        if let limit, objects.count > limit { out.append("  (+\(objects.count - limit) more: snapshot --objects lists them)") }
        return out
    }
}
