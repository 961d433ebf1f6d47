/// `thplab doctor`: the host's probed facts (`HostProbe`) turned into
/// checks, one line each, and a verdict per scenario.
public enum DoctorProbe {
    public static func run(sysfs: THPSysfs = THPSysfs()) -> DoctorReport {
        let h = HostProbe.probe()
        var counters: [String: Int64] = [:]
        for knob in [Knob.fullScans, .pagesCollapsed] {
            if let n = sysfs.number(knob) { counters[knob.shortName] = n }
        }
        return DoctorReport(kernelRelease: h.release, machine: h.machine, thpSysfs: sysfs.isPresent, knobs: sysfs.readAll(),
                            counters: counters, checks: checks(h, sysfs: sysfs), numaNodes: h.numaNodes, numa: h.topology,
                            scenarios: scenarios(h, sysfs: sysfs), capabilities: Capabilities.read(sysfs: sysfs, probe: h))
    }

    static func checks(_ h: HostProbe, sysfs: THPSysfs) -> [DoctorReport.Check] {
        var checks: [DoctorReport.Check] = []
        func add(_ name: String, _ ok: Bool?, _ detail: String) { checks.append(.init(name: name, ok: ok, detail: detail)) }
        add("root", h.isRoot, h.isRoot ? "running as root" : "not root: experiments and knob changes need root (sudo)")
        switch h.sysAdmin {
        case .success(let has):
            add("CAP_SYS_ADMIN", has, has ? "effective (pagemap shows PFNs)" : "not effective: pagemap hides PFNs, so huge pages cannot be told from small ones")
        case .failure(let e): add("CAP_SYS_ADMIN", nil, "libcap could not tell: \(e)")
        }
        add("thp sysfs", sysfs.isPresent, sysfs.isPresent ? sysfs.root : "\(sysfs.root) missing: kernel built without CONFIG_TRANSPARENT_HUGEPAGE")
        add("khugepaged", h.khugepagedRunning, h.khugepagedRunning ? "thread running" : "no khugepaged thread found")
        let rothp = h.config.isSet("CONFIG_READ_ONLY_THP_FOR_FS")
        add("CONFIG_READ_ONLY_THP_FOR_FS", rothp, rothp == nil ? "kernel config not found (/boot/config-\(h.release), /proc/config.gz)" :
            (rothp! ? "set (from \(h.config.source!)): regular files can collapse for read-only executable mappings" : "not set (from \(h.config.source!)): regular files never collapse"))
        add("MADV_POPULATE_READ/WRITE", h.populate.ok, h.populate.detail)
        add("MADV_COLLAPSE", h.collapse.ok, h.collapse.detail)
        add("process_madvise(MADV_COLLAPSE)", h.processMadviseCollapse.ok, h.processMadviseCollapse.detail)
        add("tracefs", h.tracefs.ok, h.tracefs.detail)
        if h.tracefsMounted {
            add("huge_memory tracepoints", h.hugeMemoryEvents, h.hugeMemoryEvents ? "mm_khugepaged_scan_file and friends present" : "no huge_memory/mm_khugepaged_scan_file event")
        }
        add("pagemap PFNs", h.pagemapPFNs.ok, h.pagemapPFNs.detail)
        add("PAGEMAP_SCAN", h.pagemapScan, h.pagemapScan ? "the ioctl answers (6.7+): PMD mappings are read from the page tables" : "no PAGEMAP_SCAN (before 6.7): snapshot infers PMD mappings from smaps")
        add(ProcFS.host.kpageflags, h.kpageflagsReadable, h.kpageflagsReadable ? "readable" : "not readable (needs root)")
        add("swap", h.swaps.isEmpty ? (h.isRoot ? true : nil) : true,
            h.swaps.isEmpty ? (h.isRoot ? "none active; `run swap` makes a swap file in /var/tmp for its run and removes it" : "none active; `run swap` needs root to make one")
                            : "active: \(h.swaps.joined(separator: ", "))")
        checks.append(vmCheck())
        add("NUMA (libnuma)", h.numaNodes != nil, h.numaNodes == nil ? "numa_available() says no NUMA support: --node, --interleave and --preferred cannot work"
            : "\(h.topology.nodes.count) online node(s): " + h.topology.nodes.map { n in
                "node \(n.node) \(n.memTotalKB >> 10) MiB (free \(n.memFreeKB >> 10) MiB), CPUs \(n.cpus.isEmpty ? "none" : n.cpus), distances \(n.distances.map(String.init).joined(separator: " "))"
            }.joined(separator: "; "))
        checks += leftoverChecks(Leftovers.find())
        return checks
    }

    /// One failed check per thing a thplab that no longer runs left
    /// behind, or one passed check saying there is none.
    static func leftoverChecks(_ items: [Leftovers.Item]) -> [DoctorReport.Check] {
        guard !items.isEmpty else {
            return [.init(name: "left over", ok: true, detail: "nothing: no stale journal, and no mount, file, swap area, tracefs instance, cgroup or worker of a thplab that no longer runs")]
        }
        return items.map { item in
            let remedy: String
            switch item.kind {
            case .journal: remedy = "an interrupted run's journal: the next run, or `thplab knobs restore`, puts the host back"
            case .worker: remedy = "a worker whose thplab is gone: kill it"
            default: remedy = "made by a thplab that no longer runs: `thplab knobs restore` undoes what a journal lists; if it stays, remove it by hand (umount, swapoff, rmdir, rm)"
            }
            return .init(name: "left over", ok: false, detail: "\(item.kind.rawValue) \(item.path): \(remedy)")
        }
    }

    static func vmCheck() -> DoctorReport.Check {
        let missing = VirtualMachine.missingTools()
        let kernels = KernelImage.installed()
        return .init(name: "VMs (thplab vm)", ok: missing.isEmpty && !kernels.isEmpty,
                     detail: missing.isEmpty ? "virtme-ng and qemu present; kernels in /boot: \(kernels.isEmpty ? "none" : kernels.joined(separator: ", "))\(Sys.exists(Sys.kvmDevice) ? "; KVM is probed on first use and software emulation used if it fails" : "; no /dev/kvm: software emulation")"
                                          : "missing " + missing.joined(separator: ", ") + " (scripts/install-vm-tools)")
    }

    static func scenarios(_ h: HostProbe, sysfs: THPSysfs) -> [DoctorReport.ScenarioSupport] {
        var out: [DoctorReport.ScenarioSupport] = []
        var base: [String] = []
        if !h.isRoot { base.append("root") }
        if !sysfs.isPresent { base.append("THP in the kernel") }
        if h.populate.ok != true { base.append("MADV_POPULATE_READ/WRITE (5.14+)") }
        func scenario(_ name: String, _ missing: [String], _ note: String) {
            out.append(.init(scenario: name, canRun: missing.isEmpty, why: missing.isEmpty ? note : "needs " + missing.joined(separator: ", ")))
        }
        let khugepaged = h.khugepagedRunning ? [] : ["a running khugepaged"]
        let withMemory = h.topology.nodes.filter { $0.memTotalKB > 0 }
        scenario("retract --trigger madvise", base + (h.collapse.ok == true ? [] : ["MADV_COLLAPSE (6.1+)"]), "ready")
        scenario("retract --trigger khugepaged", base + khugepaged,
                 h.tracefs.ok == true ? "ready; tracepoints tell whether khugepaged looked at the object" : "ready, but without tracepoints a wait cannot tell 'never looked' from 'looked and refused'")
        scenario("collapse, sparse, latency", base + khugepaged, "ready")
        scenario("swap", base + (h.swaps.isEmpty && !h.isRoot ? ["root, to make a swap file"] : []), h.swaps.isEmpty ? "ready: a swap file is made for the run" : "ready: uses the host's swap")
        scenario("numa", base + (withMemory.count >= 2 ? [] : ["two NUMA nodes with memory (this host has \(withMemory.count)); a two-node guest has them: thplab vm --cpus 2 --numa 1G,cpus=0 --numa 1G,cpus=1"]),
                 "ready: small pages spread over \(withMemory.count) nodes before the collapse")
        scenario("placement (--node, --interleave, --preferred)", base + (h.numaNodes == nil ? ["NUMA support in the kernel"] : []),
                 withMemory.count >= 2 ? "ready on nodes \(withMemory.map { String($0.node) }.joined(separator: ","))"
                    : "only node \(withMemory.first.map { String($0.node) } ?? "0") here: placement on it works; spreading over nodes needs a two-node guest")
        scenario("retract --backing file", base, h.config.isSet("CONFIG_READ_ONLY_THP_FOR_FS") == true ? "ready: the file is open for writing, so it still will not collapse (file_thp_enabled())" :
                    "runs, but nothing can collapse: no CONFIG_READ_ONLY_THP_FOR_FS; the report says so")
        return out
    }
}
