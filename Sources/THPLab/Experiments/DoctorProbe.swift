import SystemPackage

/// The probes behind `thplab doctor`. Each feature is tried, not guessed:
/// a small memfd is collapsed with MADV_COLLAPSE, an anonymous page is
/// populated with MADV_POPULATE_READ/WRITE.
public enum DoctorProbe {
    public static func run(sysfs: THPSysfs = THPSysfs()) -> DoctorReport {
        let (release, machine) = Sys.uname()
        let isRoot = Sys.effectiveUID == 0
        var checks: [DoctorReport.Check] = []
        func add(_ name: String, _ ok: Bool?, _ detail: String) { checks.append(.init(name: name, ok: ok, detail: detail)) }

        add("root", isRoot, isRoot ? "running as root" : "not root: experiments and knob changes need root (sudo)")
        let capability: Bool?
        switch Sys.hasEffectiveSysAdmin() {
        case .success(let has):
            capability = has
            add("CAP_SYS_ADMIN", has, has ? "effective (pagemap shows PFNs)" : "not effective: pagemap hides PFNs, so huge pages cannot be told from small ones")
        case .failure(let e):
            capability = nil
            add("CAP_SYS_ADMIN", nil, "libcap could not tell: \(e)")
        }
        add("thp sysfs", sysfs.isPresent, sysfs.isPresent ? sysfs.root : "\(sysfs.root) missing: kernel built without CONFIG_TRANSPARENT_HUGEPAGE")
        let khugepagedRunning = processNames().contains("khugepaged")
        add("khugepaged", khugepagedRunning, khugepagedRunning ? "thread running" : "no khugepaged thread found")

        let config = KernelConfig.load(release: release)
        let rothp = config.isSet("CONFIG_READ_ONLY_THP_FOR_FS")
        add("CONFIG_READ_ONLY_THP_FOR_FS", rothp, rothp == nil ? "kernel config not found (/boot/config-\(release), /proc/config.gz)" :
            (rothp! ? "set (from \(config.source!)): regular files can collapse for read-only executable mappings" : "not set (from \(config.source!)): regular files never collapse"))

        let populate = probePopulate()
        add("MADV_POPULATE_READ/WRITE", populate.ok, populate.detail)
        let collapse = probeCollapse()
        add("MADV_COLLAPSE", collapse.ok, collapse.detail)

        let tracing = tracefsState(isRoot: isRoot)
        add("tracefs", tracing.ok, tracing.detail)
        let event = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].contains {
            Sys.exists($0 + "/events/huge_memory/mm_khugepaged_scan_file")
        }
        if tracing.mounted {
            add("huge_memory tracepoints", event, event ? "mm_khugepaged_scan_file and friends present" : "no huge_memory/mm_khugepaged_scan_file event")
        }

        let pagemap = probePagemap(capability: capability)
        add("pagemap PFNs", pagemap.ok, pagemap.detail)
        let scan = probePagemapScan()
        add("PAGEMAP_SCAN", scan, scan ? "the ioctl answers (6.7+): PMD mappings are read from the page tables" : "no PAGEMAP_SCAN (before 6.7): snapshot infers PMD mappings from smaps")
        let kpf = (try? Pagemap.readWords(path: "/proc/kpageflags", index: 0, count: 1)) != nil
        add("/proc/kpageflags", kpf, kpf ? "readable" : "not readable (needs root)")

        let swaps = SwapArea.active()
        add("swap", swaps.isEmpty ? (isRoot ? true : nil) : true,
            swaps.isEmpty ? (isRoot ? "none active; `run swap` makes a swap file in /var/tmp for its run and removes it" : "none active; `run swap` needs root to make one")
                          : "active: \(swaps.joined(separator: ", "))")
        let vmMissing = VirtualMachine.missingTools()
        let kernels = KernelImage.installed()
        add("VMs (thplab vm)", vmMissing.isEmpty && !kernels.isEmpty,
            vmMissing.isEmpty ? "virtme-ng and qemu present; kernels in /boot: \(kernels.isEmpty ? "none" : kernels.joined(separator: ", "))\(Sys.exists("/dev/kvm") ? "; KVM is probed on first use and software emulation used if it fails" : "; no /dev/kvm: software emulation")"
                              : "missing " + vmMissing.joined(separator: ", ") + " (scripts/install-vm-tools)")
        let nodes = Sys.numaNodeCount()
        let topology = NumaTopology.read()
        let withMemory = topology.nodes.filter { $0.memTotalKB > 0 }
        add("NUMA (libnuma)", nodes != nil, nodes == nil ? "numa_available() says no NUMA support: --node, --interleave and --preferred cannot work"
            : "\(topology.nodes.count) online node(s): " + topology.nodes.map { n in
                "node \(n.node) \(n.memTotalKB >> 10) MiB (free \(n.memFreeKB >> 10) MiB), CPUs \(n.cpus.isEmpty ? "none" : n.cpus), distances \(n.distances.map(String.init).joined(separator: " "))"
            }.joined(separator: "; "))

        for j in HostGuard.staleJournals(stateDir: HostGuard.defaultStateDir) {
            add("journal", false, "an interrupted run left \(j): the next run, or `thplab knobs restore`, puts the host back")
        }

        var scenarios: [DoctorReport.ScenarioSupport] = []
        var base: [String] = []
        if !isRoot { base.append("root") }
        if !sysfs.isPresent { base.append("THP in the kernel") }
        if populate.ok != true { base.append("MADV_POPULATE_READ/WRITE (5.14+)") }
        func scenario(_ name: String, _ missing: [String], _ note: String) {
            scenarios.append(.init(scenario: name, canRun: missing.isEmpty,
                                   why: missing.isEmpty ? note : "needs " + missing.joined(separator: ", ")))
        }
        scenario("retract --trigger madvise", base + (collapse.ok == true ? [] : ["MADV_COLLAPSE (6.1+)"]), "ready")
        scenario("retract --trigger khugepaged", base + (khugepagedRunning ? [] : ["a running khugepaged"]),
                 tracing.ok == true ? "ready; tracepoints tell whether khugepaged looked at the object" : "ready, but without tracepoints a wait cannot tell 'never looked' from 'looked and refused'")
        scenario("collapse, sparse, latency", base + (khugepagedRunning ? [] : ["a running khugepaged"]), "ready")
        scenario("swap", base + (swaps.isEmpty && !isRoot ? ["root, to make a swap file"] : []), swaps.isEmpty ? "ready: a swap file is made for the run" : "ready: uses the host's swap")
        scenario("numa", base + (withMemory.count >= 2 ? [] : ["two NUMA nodes with memory (this host has \(withMemory.count)); a two-node guest has them: thplab vm --numa 1G,cpus=0 --numa 1G,cpus=1"]),
                 "ready: small pages spread over \(withMemory.count) nodes before the collapse")
        scenario("placement (--node, --interleave, --preferred)", base + (nodes == nil ? ["NUMA support in the kernel"] : []),
                 withMemory.count >= 2 ? "ready on nodes \(withMemory.map { String($0.node) }.joined(separator: ","))"
                    : "only node \(withMemory.first.map { String($0.node) } ?? "0") here: placement on it works; spreading over nodes needs a two-node guest")
        scenario("retract --backing file", base, rothp == true ? "ready: the file is open for writing, so it still will not collapse (file_thp_enabled())" :
                    "runs, but nothing can collapse: no CONFIG_READ_ONLY_THP_FOR_FS; the report says so")

        var counters: [String: Int64] = [:]
        for name in ["full_scans", "pages_collapsed"] {
            if let v = try? sysfs.read("khugepaged/" + name), let n = Int64(v.current) { counters[name] = n }
        }
        return DoctorReport(kernelRelease: release, machine: machine, thpSysfs: sysfs.isPresent, knobs: sysfs.readAll(),
                            counters: counters, checks: checks, numaNodes: nodes, numa: topology, scenarios: scenarios)
    }

    static func processNames() -> Set<String> {
        let pids = (try? Sys.listDirectory("/proc").get()) ?? []
        var names: Set<String> = []
        for pid in pids where pid.allSatisfy(\.isNumber) {
            if let c = FileIO.readIfPresent("/proc/\(pid)/comm") { names.insert(c.trimmingWhitespace()) }
        }
        return names
    }

    static func probePopulate() -> (ok: Bool?, detail: String) {
        guard let fd = try? Sys.memfdCreate(name: "thplab-doctor").get() else { return (nil, "memfd_create failed") }
        defer { try? fd.close() }
        guard case .success = Sys.ftruncate(fd, size: 4096),
              let region = try? MappedRegion(fd: fd, length: 4096, fileOffset: 0, shared: true) else {
            return (nil, "could not map a test page")
        }
        switch (region.madvise(.populateRead), region.madvise(.populateWrite)) {
        case (.success, .success): return (true, "supported")
        case (.failure(let e), _), (_, .failure(let e)): return (false, "madvise failed: \(ErrnoName.of(e)) (needs 5.14+)")
        }
    }

    /// MADV_COLLAPSE on a 2 MiB memfd mapping; the huge page is freed at once.
    static func probeCollapse() -> (ok: Bool?, detail: String) {
        let size = PageGeometry.pmdSize
        guard let fd = try? Sys.memfdCreate(name: "thplab-doctor").get() else { return (nil, "memfd_create failed") }
        defer { try? fd.close() }
        guard case .success = Sys.ftruncate(fd, size: Int64(size)),
              let region = try? MappedRegion(fd: fd, length: size, fileOffset: 0, shared: true),
              case .success = region.madvise(.populateWrite) else {
            return (nil, "could not set up a 2 MiB test mapping")
        }
        switch region.madvise(.collapse) {
        case .success: return (true, "supported (a 2 MiB memfd collapsed)")
        case .failure(let e):
            return (false, "refused with \(ErrnoName.of(e)): kernel before 6.1, shmem_enabled=deny, or no huge page free")
        }
    }

    static func tracefsState(isRoot: Bool) -> (ok: Bool?, mounted: Bool, detail: String) {
        let mounts = MountTable.parse(FileIO.readIfPresent("/proc/mounts") ?? "")
        if let m = mounts.first(where: { $0.type == "tracefs" }) {
            return (true, true, "mounted at \(m.target)")
        }
        let known = (FileIO.readIfPresent("/proc/filesystems") ?? "").contains("tracefs")
        if !known { return (false, false, "the kernel has no tracefs") }
        return (isRoot ? true : nil, false, isRoot ? "not mounted; thplab mounts it at /sys/kernel/tracing for a run and unmounts it afterwards" : "not mounted; mounting it needs root")
    }

    static func probePagemapScan() -> Bool {
        guard let fd = try? FileDescriptor.open(FilePath("/proc/self/pagemap"), .readOnly, options: .closeOnExec) else { return false }
        defer { try? fd.close() }
        return PagemapScan.isAvailable(fd: fd)
    }

    static func probePagemap(capability: Bool?) -> (ok: Bool?, detail: String) {
        guard let fd = try? Sys.memfdCreate(name: "thplab-doctor").get() else { return (nil, "memfd_create failed") }
        defer { try? fd.close() }
        guard case .success = Sys.ftruncate(fd, size: 4096),
              let region = try? MappedRegion(fd: fd, length: 4096, fileOffset: 0, shared: true),
              case .success = region.madvise(.populateWrite),
              let entry = try? Pagemap.entries(pid: Sys.pid, start: region.start, end: region.end).first else {
            return (nil, "could not read /proc/self/pagemap")
        }
        let pfn = entry & Pagemap.pfnMask
        return pfn != 0 ? (true, "PFNs visible") : (false, "PFNs read as 0 (needs CAP_SYS_ADMIN): huge pages are told from smaps only")
    }
}
