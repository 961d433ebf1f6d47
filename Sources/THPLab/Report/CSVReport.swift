import Foundation

/// Sweeps, watch timelines and snapshots as CSV (RFC 4180 quoting).
public enum CSVReport {
    public static func render(_ result: AnyResult) throws -> String {
        switch result {
        case .sweep(let r): return sweep(r)
        case .watch(let w): return watch(w)
        case .snapshot(let s): return snapshot(s)
        default:
            throw THPLabError.usage("a \(result.kind) result has no CSV form: CSV is for sweep, watch and snapshot (use --json or --html)")
        }
    }

    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func lines(_ header: [String], _ rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func num(_ v: Double?) -> String { v.map { String($0) } ?? "" }

    static func sweep(_ r: SweepResult) -> String {
        lines(r.axes.map(\.name) + ["runs", "collapsed", "total", "expected_collapsed", "coverage_percent", "latency_median_ms",
                                     "latency_min_ms", "latency_max_ms", "full_coverage_ms", "ok"],
              r.points.map { p in
                  r.axes.map { p.knobs[$0.name] ?? "" } + ["\(p.runs)", "\(p.collapsed)", "\(p.total)", "\(p.expectedCollapsed)",
                      num(p.coveragePercent), num(p.latency?.medianMs), num(p.latency?.minMs), num(p.latency?.maxMs),
                      num(p.fullCoverageMs), "\(p.ok)"]
              })
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
