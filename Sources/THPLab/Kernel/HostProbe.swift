import SystemPackage

/// What this host offers, each feature tried rather than guessed: a small
/// memfd is collapsed with MADV_COLLAPSE, a page populated with
/// MADV_POPULATE_READ/WRITE, pagemap read for a PFN. Plain facts; `thplab
/// doctor` turns them into checks and scenario verdicts.
public struct HostProbe: Sendable {
    /// A probe's verdict: nil when it could not tell.
    public struct Finding: Sendable {
        public var ok: Bool?
        public var detail: String
    }

    public var release: String
    public var machine: String
    public var isRoot: Bool
    /// CAP_SYS_ADMIN in the effective set, or why libcap could not tell.
    public var sysAdmin: Result<Bool, Errno>
    public var khugepagedRunning: Bool
    public var config: KernelConfig
    public var populate: Finding
    public var collapse: Finding
    /// process_madvise(MADV_COLLAPSE) on this process (6.1+, with pidfd).
    public var processMadviseCollapse: Finding
    public var tracefs: Finding
    public var tracefsMounted: Bool
    public var hugeMemoryEvents: Bool
    public var pagemapPFNs: Finding
    public var pagemapScan: Bool
    public var kpageflagsReadable: Bool
    public var swaps: [String]
    /// numa_available()'s node count, nil without NUMA support.
    public var numaNodes: Int?
    public var topology: NumaTopology

    public static func probe(proc: ProcFS = .host) -> HostProbe {
        let (release, machine) = Sys.uname()
        let isRoot = Sys.effectiveUID == 0
        let tracing = tracefsState(isRoot: isRoot, proc: proc)
        return HostProbe(release: release, machine: machine, isRoot: isRoot, sysAdmin: Sys.result({ try Sys.hasEffectiveSysAdmin() }),
                         khugepagedRunning: processNames(proc).contains("khugepaged"), config: KernelConfig.load(release: release),
                         populate: probePopulate(), collapse: probeCollapse(), processMadviseCollapse: probeProcessCollapse(),
                         tracefs: tracing.finding, tracefsMounted: tracing.mounted,
                         hugeMemoryEvents: ScanTracer.tracefsRoots.contains {
                             Sys.exists($0 + "/events/huge_memory/mm_khugepaged_scan_file")
                         },
                         pagemapPFNs: probePagemap(), pagemapScan: probePagemapScan(proc),
                         kpageflagsReadable: (try? Pagemap.readWords(path: proc.kpageflags, index: 0, count: 1)) != nil,
                         swaps: proc.activeSwaps(), numaNodes: Sys.numaNodeCount(), topology: NumaTopology.read())
    }

    static func processNames(_ proc: ProcFS) -> Set<String> {
        let pids = (try? Sys.listDirectory(proc.root)) ?? []
        return Set(pids.compactMap { Int32($0) }.map { proc.comm($0) })
    }

    static func probePopulate() -> Finding {
        guard let fd = try? Sys.memfdCreate(name: "thplab-doctor") else { return Finding(ok: nil, detail: "memfd_create failed") }
        defer { try? fd.close() }
        guard case .success = Sys.result({ try Sys.ftruncate(fd, size: Int64(PageGeometry.pageSize)) }),
              let region = try? MappedRegion(fd: fd, length: PageGeometry.pageSize, fileOffset: 0, shared: true) else {
            return Finding(ok: nil, detail: "could not map a test page")
        }
        switch (Sys.result({ try region.madvise(.populateRead) }), Sys.result({ try region.madvise(.populateWrite) })) {
        case (.success, .success): return Finding(ok: true, detail: "supported")
        case (.failure(let e), _), (_, .failure(let e)): return Finding(ok: false, detail: "madvise failed: \(ErrnoName.of(e)) (needs 5.14+)")
        }
    }

    /// MADV_COLLAPSE on a 2 MiB memfd mapping; the huge page is freed at once.
    static func probeCollapse() -> Finding {
        let size = PageGeometry.pmdSize
        guard let fd = try? Sys.memfdCreate(name: "thplab-doctor") else { return Finding(ok: nil, detail: "memfd_create failed") }
        defer { try? fd.close() }
        guard case .success = Sys.result({ try Sys.ftruncate(fd, size: Int64(size)) }),
              let region = try? MappedRegion(fd: fd, length: size, fileOffset: 0, shared: true),
              case .success = Sys.result({ try region.madvise(.populateWrite) }) else {
            return Finding(ok: nil, detail: "could not set up a 2 MiB test mapping")
        }
        switch Sys.result({ try region.madvise(.collapse) }) {
        case .success: return Finding(ok: true, detail: "supported (a 2 MiB memfd collapsed)")
        case .failure(let e):
            return Finding(ok: false, detail: "refused with \(ErrnoName.of(e)): kernel before 6.1, shmem_enabled=deny, or no huge page free")
        }
    }

    /// process_madvise(MADV_COLLAPSE) on a 2 MiB memfd mapping of this process.
    static func probeProcessCollapse() -> Finding {
        let size = PageGeometry.pmdSize
        guard let fd = try? Sys.memfdCreate(name: "thplab-doctor") else { return Finding(ok: nil, detail: "memfd_create failed") }
        defer { try? fd.close() }
        guard (try? Sys.ftruncate(fd, size: Int64(size))) != nil,
              let region = try? MappedRegion(fd: fd, length: size, fileOffset: 0, shared: true),
              (try? region.madvise(.populateWrite)) != nil else {
            return Finding(ok: nil, detail: "could not set up a 2 MiB test mapping")
        }
        switch Sys.result({ try Sys.processMadvise(pid: Sys.pid, address: region.start, length: size, .collapse) }) {
        case .success: return Finding(ok: true, detail: "supported (thplab collapse can collapse another process's memory)")
        case .failure(let e): return Finding(ok: false, detail: "refused with \(ErrnoName.of(e)): thplab collapse cannot work here")
        }
    }

    static func tracefsState(isRoot: Bool, proc: ProcFS) -> (finding: Finding, mounted: Bool) {
        if let m = MountTable.parse(proc.read("mounts") ?? "").first(where: { $0.type == "tracefs" }) {
            return (Finding(ok: true, detail: "mounted at \(m.target)"), true)
        }
        guard (proc.read("filesystems") ?? "").contains("tracefs") else { return (Finding(ok: false, detail: "the kernel has no tracefs"), false) }
        return (Finding(ok: isRoot ? true : nil, detail: isRoot ? "not mounted; thplab mounts it at /sys/kernel/tracing for a run and unmounts it afterwards" : "not mounted; mounting it needs root"), false)
    }

    static func probePagemapScan(_ proc: ProcFS) -> Bool {
        guard let fd = try? FileDescriptor.open(FilePath(proc.path("self/pagemap")), .readOnly, options: .closeOnExec) else { return false }
        defer { try? fd.close() }
        return PagemapScan.isAvailable(fd: fd)
    }

    static func probePagemap() -> Finding {
        guard let fd = try? Sys.memfdCreate(name: "thplab-doctor") else { return Finding(ok: nil, detail: "memfd_create failed") }
        defer { try? fd.close() }
        guard case .success = Sys.result({ try Sys.ftruncate(fd, size: Int64(PageGeometry.pageSize)) }),
              let region = try? MappedRegion(fd: fd, length: PageGeometry.pageSize, fileOffset: 0, shared: true),
              case .success = Sys.result({ try region.madvise(.populateWrite) }),
              let entry = try? Pagemap.entries(pid: Sys.pid, start: region.start, end: region.end).first else {
            return Finding(ok: nil, detail: "could not read /proc/self/pagemap")
        }
        return entry & Pagemap.pfnMask != 0 ? Finding(ok: true, detail: "PFNs visible")
            : Finding(ok: false, detail: "PFNs read as 0 (needs CAP_SYS_ADMIN): huge pages are told from smaps only")
    }
}
