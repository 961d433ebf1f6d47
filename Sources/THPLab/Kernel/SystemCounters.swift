/// The system-wide THP figures at one moment: every /proc/vmstat `thp_*`
/// line with `nr_shmem_hugepages` and `nr_file_hugepages`, the huge-page
/// lines of /proc/meminfo (kB), khugepaged's `full_scans` and
/// `pages_collapsed`, and the per-size counters where the kernel has them
/// (nil before 6.9: absent, not zero).
public struct SystemCounters: Codable, Equatable, Sendable {
    public var vmstat: [String: Int64]
    public var meminfo: [String: Int64]
    public var khugepaged: [String: Int64]
    public var perSize: PerSizeStats?

    enum CodingKeys: String, CodingKey { case vmstat, meminfo, khugepaged, perSize = "per_size" }

    public static let meminfoKeys = ["AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages",
                                     "FilePmdMapped", "MemAvailable"]

    public init(vmstat: [String: Int64], meminfo: [String: Int64], khugepaged: [String: Int64], perSize: PerSizeStats? = nil) {
        self.vmstat = vmstat
        self.meminfo = meminfo
        self.khugepaged = khugepaged
        self.perSize = perSize
    }

    /// Picks the lines thplab reports out of parsed counter files.
    public init(vmstatText: String, meminfoText: String, khugepaged: [String: Int64], perSize: PerSizeStats? = nil) {
        vmstat = ProcCounters.parseVmstat(vmstatText).filter {
            $0.key.hasPrefix("thp_") || $0.key == "nr_shmem_hugepages" || $0.key == "nr_file_hugepages"
        }
        meminfo = ProcCounters.parseMeminfo(meminfoText).filter { SystemCounters.meminfoKeys.contains($0.key) }
        self.khugepaged = khugepaged
        self.perSize = perSize
    }

    /// Reads the live files.
    public static func read(procRoot: String = "/proc", sysfs: THPSysfs = THPSysfs()) -> SystemCounters {
        var k: [String: Int64] = [:]
        for name in ["full_scans", "pages_collapsed"] {
            if let v = try? sysfs.read("khugepaged/" + name), let n = Int64(v.current) { k[name] = n }
        }
        let perSize = PerSizeStats.read(sysfs: sysfs)
        return SystemCounters(vmstatText: FileIO.readIfPresent(procRoot + "/vmstat") ?? "",
                              meminfoText: FileIO.readIfPresent(procRoot + "/meminfo") ?? "", khugepaged: k,
                              perSize: perSize.isEmpty ? nil : perSize)
    }

    /// after - before for every counter present in both (MemAvailable excluded).
    public func delta(since before: SystemCounters) -> SystemCounters {
        func sub(_ a: [String: Int64], _ b: [String: Int64]) -> [String: Int64] {
            var out: [String: Int64] = [:]
            for (k, v) in a where k != "MemAvailable" { if let w = b[k] { out[k] = v - w } }
            return out
        }
        let sizes: PerSizeStats? = perSize.flatMap { a in before.perSize.map { a.delta(since: $0) } }
        return SystemCounters(vmstat: sub(vmstat, before.vmstat), meminfo: sub(meminfo, before.meminfo),
                              khugepaged: sub(khugepaged, before.khugepaged), perSize: sizes)
    }
}
