
/// Sweeps, watch timelines and snapshots as CSV (RFC 4180 quoting); run
/// results and diffs as their per-size counter table; `run mthp` and its
/// sweep one row per step and folio size.
public enum CSVReport {
    public static func render(_ result: AnyResult) throws -> String {
        switch result {
        case .sweep(let r): return sweep(r)
        case .watch(let w): return watch(w)
        case .snapshot(let s): return snapshot(s)
        case .run(let r) where r.deltas.perSize != nil: return perSize(r.deltas.perSize)
        case .retract(let r) where r.deltas.perSize != nil: return perSize(r.deltas.perSize)
        case .diff(let d) where d.system?.perSize != nil: return perSize(d.system?.perSize)
        case .mthp(let r): return mthpSteps(r.steps.map { ([String: String](), $0) })
        case .mthpSweep(let r): return mthpSteps(r.points.flatMap { p in p.steps.map { (p.knobs, $0) } }, axes: r.axes.map(\.name))
        case .benefit(let r): return benefit(r)
        default:
            throw THPLabError.usage("this \(result.kind) result has no CSV form: CSV is for sweep, watch, snapshot, mthp and benefit results, and for the per-size counters of run, retract and --system diff results that carry them (6.9+; use --json or --html)")
        }
    }

    /// One row per access state.
    static func benefit(_ r: BenefitResult) -> String {
        func f(_ v: Double?) -> String { v.map { String(cFormat: "%.2f", $0) } ?? "" }
        return lines(["state", "held", "pmd_pages", "pte_thp_pages", "mthp_pages", "small_pages", "chase_median_ns", "chase_min_ns", "chase_max_ns",
                      "chase_speedup", "stream_median_ns", "stream_min_ns", "stream_max_ns", "stream_speedup"],
                     r.states.map { s in
                         [s.state.rawValue, "\(s.held)", "\(s.pages.pmd)", "\(s.pages.pteThp)", "\(s.pages.mthp)", "\(s.pages.small)",
                          f(s.chase?.medianNs), f(s.chase?.minNs), f(s.chase?.maxNs), f(s.chaseSpeedup),
                          f(s.stream?.medianNs), f(s.stream?.minNs), f(s.stream?.maxNs), f(s.streamSpeedup)]
                     })
    }

    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s
    }

    static func lines(_ header: [String], _ rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func num(_ v: Double?) -> String { v.map { String($0) } ?? "" }

    /// The per-size counters (deltas of a run): one row per folio size, one
    /// column per counter, empty where the kernel has no such counter.
    static func perSize(_ stats: PerSizeStats?) -> String {
        let s = stats ?? PerSizeStats()
        let names = s.counterNames
        return lines(["size_kb"] + names, s.sortedSizes.map { size in ["\(size)"] + names.map { s[size, $0].map(String.init) ?? "" } })
    }

    /// One row per step and folio size: pages seen and expected in kB, and
    /// the per-size counters that moved over the step at that size.
    static func mthpSteps(_ steps: [([String: String], MthpStep)], axes: [String] = []) -> String {
        let counters = Set(steps.flatMap { $0.1.counters.sizes.values.flatMap(\.keys) }).sorted { (PerSizeStats.order($0), $0) < (PerSizeStats.order($1), $1) }
        var rows: [[String]] = []
        for (knobs, s) in steps {
            let sizes = Set(s.seen.keys.compactMap(Int.init) + s.expected.keys.compactMap(Int.init) + s.counters.sortedSizes).sorted(by: >)
            for size in sizes {
                let k = String(size)
                rows.append(axes.map { knobs[$0] ?? "" } + [s.phase.rawValue, s.memory.rawValue, s.label, HTML.hex(s.start), "\(s.lengthKB)", "\(s.advised)", "\(size)",
                            "\((s.seen[k] ?? 0) * PageGeometry.pageKB)", "\((s.expected[k] ?? 0) * PageGeometry.pageKB)", "\(s.ok)"]
                            + counters.map { s.counters[size, $0].map(String.init) ?? "" })
            }
        }
        return lines(axes + ["phase", "memory", "label", "start", "length_kb", "advised", "size_kb", "seen_kb", "expected_kb", "ok"] + counters, rows)
    }

    static func sweep(_ r: SweepResult) -> String {
        let benefit = r.points.contains { $0.benefit != nil }
        return lines(r.axes.map(\.name) + ["runs", "collapsed", "total", "expected_collapsed", "coverage_percent", "latency_median_ms",
                                            "latency_min_ms", "latency_max_ms", "full_coverage_ms"]
                     + (benefit ? ["added_kb", "added_per_extent_kb", "chase_before_ns", "chase_after_ns", "speedup", "measurable",
                                   "control_change", "net_speedup"] : []) + ["ok"],
                     r.points.map { p in
                         r.axes.map { p.knobs[$0.name] ?? "" } + ["\(p.runs)", "\(p.collapsed)", "\(p.total)", "\(p.expectedCollapsed)",
                             num(p.coveragePercent), num(p.latency?.medianMs), num(p.latency?.minMs), num(p.latency?.maxMs),
                             num(p.fullCoverageMs)] + (benefit ? benefitFields(p.benefit) : []) + ["\(p.ok)"]
                     })
    }

    static func benefitFields(_ b: AccessTradeoff?) -> [String] {
        guard let b else { return Array(repeating: "", count: 8) }
        return ["\(b.addedKB)", "\(b.addedPerExtentKB)", num(b.before?.medianNs), num(b.after?.medianNs), num(b.speedup),
                b.measurable.map { "\($0)" } ?? "", num(b.controlChange), num(b.netSpeedup)]
    }

    static func watch(_ w: WatchResult) -> String {
        lines(["t_s", "resident_kb", "pmd_kb", "swapped_kb", "coverage_percent", "mthp_kb", "mthp_by_size_kb"],
              w.samples.map { s in
                  ["\(s.t)", "\(s.residentKB)", "\(s.pmdKB)", "\(s.swappedKB)", "\(s.coveragePercent)",
                   s.classesKB.map { "\($0["mthp"] ?? 0)" } ?? "", FolioSizes.field(s.mthpSizesKB ?? [:])]
              })
    }

    static func snapshot(_ s: SnapshotResult) -> String {
        let classes = PageClass.allCases.map(\.rawValue)
        return lines(["pid", "comm", "start", "end", "backing", "device", "inode", "offset", "kind"] + classes.map { $0 + "_kb" } + ["coverage_percent", "cgroup", "mthp_by_size_kb"],
                     s.processes.flatMap { p in p.vmas.map { v in
                         ["\(p.pid)", p.comm, HTML.hex(v.start), HTML.hex(v.end), v.backing.name, v.backing.device, "\(v.backing.inode)",
                          "\(v.backing.offset)", v.kind.rawValue] + classes.map { "\(v.kb[$0] ?? 0)" } + ["\(v.coveragePercent)", p.cgroup ?? "", v.pages.mthpSizesField]
                     } })
    }
}
