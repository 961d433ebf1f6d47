/// What this kernel offers thplab, read from its own files: the THP size
/// directories and their stats files, the huge_memory tracepoints and the
/// scan results their format files name (when tracefs is mounted), the
/// fields of smaps, THP_enabled in status, PAGEMAP_SCAN, MADV_COLLAPSE and
/// process_madvise(MADV_COLLAPSE). The capability table of `doctor`, the
/// same on the host and in a guest (`vm -- doctor`).
public struct Capabilities: Codable, Equatable, Sendable {
    /// `hugepages-<N>kB` directories (multi-size THP, 6.8+), smallest first.
    public var sizeDirectories: [String]
    /// Files under `hugepages-<PMD>kB/stats` (per-size counters).
    public var statsFiles: [String]
    /// huge_memory events, nil when tracefs is not mounted (thplab mounts it
    /// only for a run).
    public var tracepoints: [String]?
    /// The scan results the scan tracepoint can report, in the kernel's order.
    public var scanResults: [String]?
    /// Field names of smaps (this process's first VMA).
    public var smapsFields: [String]
    /// Whether /proc/PID/status has THP_enabled.
    public var statusTHPEnabled: Bool
    public var pagemapScan: Bool
    public var madviseCollapse: Bool?
    public var processMadviseCollapse: Bool?

    enum CodingKeys: String, CodingKey {
        case sizeDirectories = "size_directories", statsFiles = "stats_files", tracepoints, scanResults = "scan_results"
        case smapsFields = "smaps_fields", statusTHPEnabled = "status_thp_enabled", pagemapScan = "pagemap_scan"
        case madviseCollapse = "madvise_collapse", processMadviseCollapse = "process_madvise_collapse"
    }

    /// The smaps fields that speak of THP (hugetlb's left out).
    public var thpSmapsFields: [String] {
        smapsFields.filter { ($0.contains("Huge") && !$0.contains("Hugetlb")) || $0.contains("PmdMapped") || $0 == "THPeligible" }
    }

    public static func read(sysfs: THPSysfs, probe: HostProbe, proc: ProcFS = .host) -> Capabilities {
        let dirs = ((try? Sys.listDirectory(sysfs.root)) ?? []).filter { THPSysfs.isSizeDirectory($0[...]) }
            .sorted { (PerSizeStats.sizeKB(directory: $0[...]) ?? 0) < (PerSizeStats.sizeKB(directory: $1[...]) ?? 0) }
        let stats = ((try? Sys.listDirectory(sysfs.path("hugepages-\(PageGeometry.pmdKB)kB/stats"))) ?? []).sorted()
        let events = ScanTracer.tracefsRoots.lazy.compactMap { root -> (String, [String])? in
            guard let names = try? Sys.listDirectory(root + "/events/huge_memory") else { return nil }
            return (root, names.filter { !$0.hasPrefix("enable") && $0 != "filter" }.sorted())
        }.first
        var results: [String]?
        if let (root, _) = events, let text = FileIO.readIfPresent(root + "/events/huge_memory/mm_khugepaged_scan_pmd/format") {
            let table = TraceFormat.parse(text).resultNames
            results = table.keys.sorted().map { table[$0]! }
        }
        let smaps = SmapsParser.parse(proc.read(Sys.pid, "smaps") ?? "").first.map { e in
            (Array(e.fields.keys) + (e.thpEligible != nil ? ["THPeligible"] : []) + (e.vmFlags.isEmpty ? [] : ["VmFlags"])).sorted()
        } ?? []
        return Capabilities(sizeDirectories: dirs, statsFiles: stats, tracepoints: events?.1, scanResults: results,
                            smapsFields: smaps, statusTHPEnabled: (proc.read(Sys.pid, "status") ?? "").contains("THP_enabled:"),
                            pagemapScan: probe.pagemapScan, madviseCollapse: probe.collapse.ok,
                            processMadviseCollapse: probe.processMadviseCollapse.ok)
    }
}
