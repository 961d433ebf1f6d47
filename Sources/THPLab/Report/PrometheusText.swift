
/// The Prometheus text exposition format (version 0.0.4, which Prometheus,
/// node_exporter's textfile collector and `promtool check metrics` read):
/// every family with HELP and TYPE, names `thplab_*` in base units, `_total`
/// for counters, label values escaped.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Who wrote the figures: `thplab_build_info`.
    public struct Build: Sendable {
        public var version: String
        public var commit: String
        public init(version: String, commit: String) {
            self.version = version
            self.commit = commit
        }
    }

    public static func render(_ s: MetricsSample, build: Build) -> String {
        var out = Exposition()
        processFamilies(s, into: &out)
        systemFamilies(s.system, into: &out)
        knobFamily(s.knobs, into: &out)
        scrapeFamilies(s, build: build, into: &out)
        return out.text
    }

    // MARK: per process

    static func processFamilies(_ s: MetricsSample, into out: inout Exposition) {
        let pageBytes = Int64(PageGeometry.pageKB) * 1024
        out.family("thplab_process_memory_bytes", .gauge,
                   "Memory of a process by page class: pmd (part of a THP mapped by a PMD), pte_thp (a PMD-sized THP mapped by PTEs), mthp (a large folio smaller than a PMD, by size), small (base pages), swapped. Shared memory counts in every process mapping it, as in Rss. comm=\"other\" sums the processes beyond --top.") { f in
            for r in s.rows {
                let l = labels(r)
                f.sample(l + [("class", "pmd")], Int64(r.pages.pmd) * pageBytes)
                f.sample(l + [("class", "pte_thp")], Int64(r.pages.pteThp) * pageBytes)
                for (size, pages) in mthpBySize(r.pages) { f.sample(l + [("class", "mthp"), ("size", size)], Int64(pages) * pageBytes) }
                f.sample(l + [("class", "small")], Int64(r.pages.small) * pageBytes)
                f.sample(l + [("class", "swapped")], Int64(r.pages.swapped) * pageBytes)
            }
        }
        out.family("thplab_process_pmd_mapped_bytes", .gauge,
                   "PMD-mapped memory of a process as smaps counts it (AnonHugePages + ShmemPmdMapped + FilePmdMapped).") { f in
            for r in s.rows { f.sample(labels(r), Int64(r.smapsPmdKB) * 1024) }
        }
        out.family("thplab_process_blocked_bytes", .gauge,
                   "Resident memory of a process not PMD-mapped, by what holds it back, as `thplab explain` ranks it (each byte under the first blocker that applies). Blockers with nothing held back are left out.") { f in
            for r in s.rows {
                for kind in BlockerKind.allCases { if let kb = r.blockedKB[kind], kb > 0 { f.sample(labels(r) + [("blocker", kind.rawValue)], Int64(kb) * 1024) } }
            }
        }
        out.family("thplab_target_processes", .gauge,
                   "Processes of the target read in full by this scrape (those beyond --top are summed under comm=\"other\").") { f in
            f.sample([], Int64(s.processesRead))
        }
        out.family("thplab_other_processes", .gauge, "Processes summed under comm=\"other\" (beyond --top).") { f in
            f.sample([], Int64(s.rows.filter { $0.pid == nil }.reduce(0) { $0 + $1.processes }))
        }
    }

    static func labels(_ r: MetricsSample.Row) -> [(String, String)] {
        [("pid", r.pid.map(String.init) ?? ""), ("comm", r.comm), ("cgroup", r.cgroup)]
    }

    /// mTHP pages by size label ("64kB"), smallest first; pages of an
    /// unknown size under "unknown".
    static func mthpBySize(_ c: ClassCounts) -> [(String, Int)] {
        var out = c.mthpSizes.compactMap { k, v in Int(k).map { ($0, v) } }.sorted { $0.0 < $1.0 }.map { ("\($0.0)kB", $0.1) }
        let known = out.reduce(0) { $0 + $1.1 }
        if c.mthp > known { out.append(("unknown", c.mthp - known)) }
        return out
    }

    // MARK: system

    static func systemFamilies(_ c: SystemCounters, into out: inout Exposition) {
        for name in c.khugepaged.keys.sorted() {
            out.family("thplab_khugepaged_\(name)_total", .counter, "khugepaged/\(name) of /sys/kernel/mm/transparent_hugepage.") { f in
                f.sample([], c.khugepaged[name]!)
            }
        }
        for name in c.vmstat.keys.sorted() {
            let counter = name.hasPrefix("thp_")
            out.family("thplab_vmstat_\(name)\(counter ? "_total" : "")", counter ? .counter : .gauge,
                       "\(name) of /proc/vmstat\(counter ? "" : " (huge pages now)").") { f in f.sample([], c.vmstat[name]!) }
        }
        for name in c.meminfo.keys.sorted() {
            out.family("thplab_meminfo_\(snakeCase(name))_bytes", .gauge, "\(name) of /proc/meminfo.") { f in
                f.sample([], c.meminfo[name]! * 1024)
            }
        }
        guard let sizes = c.perSize else { return }
        for counter in sizes.counterNames {
            let level = PerSizeStats.levels.contains(counter)
            out.family("thplab_mthp_\(counter)\(level ? "" : "_total")", level ? .gauge : .counter,
                       "hugepages-<size>/stats/\(counter) of /sys/kernel/mm/transparent_hugepage, by folio size\(level ? " (folios now)" : "").") { f in
                for kb in sizes.sortedSizes { if let v = sizes[kb, counter] { f.sample([("size", "\(kb)kB")], v) } }
            }
        }
    }

    /// `AnonHugePages` -> `anon_huge_pages`, `ShmemPmdMapped` -> `shmem_pmd_mapped`.
    static func snakeCase(_ s: String) -> String {
        var out = ""
        var previousLower = false
        for ch in s {
            if ch.isUppercase, previousLower { out += "_" }
            out += ch.lowercased()
            previousLower = ch.isLowercase || ch.isNumber
        }
        return out
    }

    static func knobFamily(_ knobs: [String: String], into out: inout Exposition) {
        out.family("thplab_knob_info", .gauge, "Each THP and khugepaged knob of /sys/kernel/mm/transparent_hugepage with its value (always 1).") { f in
            for name in knobs.keys.sorted() { f.sample([("knob", name), ("value", knobs[name]!)], 1) }
        }
    }

    // MARK: the scrape

    static func scrapeFamilies(_ s: MetricsSample, build: Build, into out: inout Exposition) {
        out.family("thplab_scrape_duration_seconds", .gauge, "How long this scrape took.") { f in f.sample([], seconds: s.durationSeconds) }
        out.family("thplab_scrape_processes_left_out", .gauge,
                   "Processes of the target left out of this scrape: exited (before or while being read) or unreadable (another user's, without CAP_SYS_PTRACE).") { f in
            let reasons = MetricsSample.leftOutReasons + s.processesLeftOut.keys.filter { !MetricsSample.leftOutReasons.contains($0) }.sorted()
            for r in reasons { f.sample([("reason", r)], Int64(s.processesLeftOut[r] ?? 0)) }
        }
        out.family("thplab_scrape_missing", .gauge,
                   "1 where this scrape could not read a source: pfns (no CAP_SYS_ADMIN: PTE-mapped THPs and mTHPs count as small), processes (some processes of the target unreadable: run as root or with CAP_SYS_PTRACE), sysfs (no THP in the kernel).") { f in
            for g in MetricsSample.Gap.allCases { f.sample([("what", g.rawValue)], s.gaps[g] == nil ? 0 : 1) }
        }
        out.family("thplab_build_info", .gauge, "The thplab that wrote these figures and the kernel it read (always 1).") { f in
            f.sample([("version", build.version), ("commit", build.commit), ("kernel", s.kernelRelease)], 1)
        }
    }

    /// The worst-case number of series for `--top N`: every row with every
    /// class, mTHP size and blocker, and the system families as this host
    /// has them (`systemSeries`).
    public static func worstCaseSeries(top: Int, mthpSizes: Int, systemSeries: Int) -> Int {
        let perRow = 4 + mthpSizes + 1 + 1 + BlockerKind.allCases.count
        return (top + 1) * perRow + systemSeries
    }
}

/// Text of families being written.
struct Exposition {
    enum Kind: String { case counter, gauge }
    private(set) var text = ""

    struct Family {
        let name: String
        var lines: [String] = []

        mutating func sample(_ labels: [(String, String)], _ value: Int64) { add(labels, String(value)) }
        mutating func sample(_ labels: [(String, String)], seconds value: Double) {
            add(labels, value.isFinite ? String(value) : (value.isNaN ? "NaN" : value > 0 ? "+Inf" : "-Inf"))
        }

        private mutating func add(_ labels: [(String, String)], _ value: String) {
            let l = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(Exposition.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            lines.append("\(name)\(l) \(value)")
        }
    }

    /// A family with its HELP and TYPE; one with no sample is left out.
    mutating func family(_ name: String, _ kind: Kind, _ help: String, _ body: (inout Family) -> Void) {
        var f = Family(name: name)
        body(&f)
        guard !f.lines.isEmpty else { return }
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        text += f.lines.joined(separator: "\n") + "\n"
    }

    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }
}
