/// What every experiment needs of the host, refused with exit code 3.
public enum HostChecks {
    /// Root, or exit code 3 saying why this command needs it.
    public static func requireRoot(_ why: String) throws {
        guard Sys.effectiveUID == 0 else { throw THPLabError.unsupported(why) }
    }

    /// The kernel's PMD and page sizes are the ones thplab works in.
    public static func requireGeometry(sysfs: THPSysfs = THPSysfs()) throws {
        let pmd = try? sysfs.read(.hpagePmdSize).current
        if PageGeometry.matches(hpagePmdSize: pmd, pageSize: Sys.pageSize) == false {
            throw THPLabError.unsupported("this kernel's huge page is \(pmd ?? "?") bytes with \(Sys.pageSize)-byte pages; thplab works in 2 MiB PMDs of 4 KiB pages (x86-64)")
        }
    }

    public static func requireRootAndTHP(trigger: Trigger, sysfs: THPSysfs = THPSysfs()) throws {
        try requireRoot("experiments need root: they read other processes' pagemap and kpageflags, and may change THP knobs (try sudo)")
        guard sysfs.isPresent else {
            throw THPLabError.unsupported("\(sysfs.root) is missing: this kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)")
        }
        try requireGeometry(sysfs: sysfs)
        if let v = KernelVersion(release: Sys.uname().release) {
            if v < KernelVersion(5, 14) {
                throw THPLabError.unsupported("kernel \(v) lacks MADV_POPULATE_READ/WRITE (5.14+), which thplab uses to fault pages in without SIGBUS")
            }
            if trigger == .madvise && !VersionRules.madviseCollapse.applies(v) {
                throw THPLabError.unsupported("kernel \(v) lacks MADV_COLLAPSE (6.1+); use --trigger khugepaged")
            }
        }
        if trigger == .khugepaged && !Sys.exists(sysfs.path(Knob.fullScans.rawValue)) {
            throw THPLabError.unsupported("\(sysfs.root)/khugepaged is missing: khugepaged is not available")
        }
    }
}
