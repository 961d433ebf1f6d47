/// What every experiment needs of the host, refused with exit code 3.
public enum HostChecks {
    public static func requireRootAndTHP(trigger: Trigger, sysfs: THPSysfs = THPSysfs()) throws {
        guard Sys.effectiveUID == 0 else {
            throw THPLabError.unsupported("experiments need root: they read other processes' pagemap and kpageflags, and may change THP knobs (try sudo)")
        }
        guard sysfs.isPresent else {
            throw THPLabError.unsupported("\(sysfs.root) is missing: this kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)")
        }
        if let v = KernelVersion(release: Sys.uname().release) {
            if v < KernelVersion(5, 14) {
                throw THPLabError.unsupported("kernel \(v) lacks MADV_POPULATE_READ/WRITE (5.14+), which thplab uses to fault pages in without SIGBUS")
            }
            if trigger == .madvise && v < KernelVersion(6, 1) {
                throw THPLabError.unsupported("kernel \(v) lacks MADV_COLLAPSE (6.1+); use --trigger khugepaged")
            }
        }
        if trigger == .khugepaged && !Sys.exists(sysfs.path("khugepaged/full_scans")) {
            throw THPLabError.unsupported("\(sysfs.root)/khugepaged is missing: khugepaged is not available")
        }
    }
}
