/// Which knobs a run changes, and why: a pure function of the current values,
/// so the choice is unit-tested and the report can show the reasons.
public enum KnobPlan {
    public struct Change: Equatable, Sendable {
        public var name: String
        public var value: String
        public var why: String
    }

    static let faultHugeValues: Set<String> = ["always", "within_size", "force"]

    /// Before populating anonymous memory: `enabled=always` (Debian's 6.1
    /// default) would allocate huge pages at fault; `madvise` still lets
    /// MADV_HUGEPAGE and MADV_COLLAPSE work afterwards.
    public static func forAnonPopulate(current: [String: SysfsValue]) -> [Change] {
        [Knob.enabled, .pmdEnabled].compactMap { knob in
            guard current.value(knob) == "always" else { return nil }
            return Change(name: knob.rawValue, value: knob == .enabled ? "madvise" : "inherit",
                          why: "always would allocate anonymous huge pages at fault; populate must start from small pages")
        }
    }

    /// Before populate: no shmem setting may make faults allocate huge pages,
    /// or there would be nothing left to collapse.
    public static func forPopulate(current: [String: SysfsValue]) -> [Change] {
        current.keys.sorted().compactMap { name in
            guard name == Knob.shmemEnabled.rawValue || (name.hasPrefix("hugepages-") && name.hasSuffix("/shmem_enabled")),
                  let v = current[name]?.current, faultHugeValues.contains(v) else { return nil }
            return Change(name: name, value: "never",
                          why: "\(v) would allocate huge pages at fault; populate must start from small pages")
        }
    }

    /// Before khugepaged's wait: make it fast (as the kernel's selftest
    /// does) and let shmem collapse where MADV_HUGEPAGE is given.
    /// `current` holds the values after the populate changes.
    public static func forKhugepaged(current: [String: SysfsValue], backing: Backing) -> [Change] {
        var out: [Change] = []
        func lower(_ knob: Knob, to value: Int, _ why: String) {
            if let v = current.value(knob).flatMap({ Int($0) }), v > value {
                out.append(Change(name: knob.rawValue, value: "\(value)", why: why))
            }
        }
        lower(.scanSleepMillisecs, to: 10, "wake khugepaged every 10 ms instead of waiting between passes")
        lower(.allocSleepMillisecs, to: 10, "retry soon after a failed huge page allocation")
        if let v = current.value(.pagesToScan).flatMap({ Int($0) }), v < 4096 {
            out.append(Change(name: Knob.pagesToScan.rawValue, value: "4096", why: "scan the whole object in one pass"))
        }
        guard backing.isShmem else { return out }
        if backing == .memfd, current.value(.shmemEnabled) == "never" {
            out.append(Change(name: Knob.shmemEnabled.rawValue, value: "advise",
                              why: "memfd follows shmem_enabled; advise lets khugepaged collapse MADV_HUGEPAGE ranges"))
        }
        if current.value(.pmdShmemEnabled) == "never" {
            out.append(Change(name: Knob.pmdShmemEnabled.rawValue, value: "inherit",
                              why: "never here would forbid PMD-sized shmem folios whatever the global setting"))
        }
        return out
    }

    /// khugepaged's sleep while MADV_COLLAPSE is measured on a kernel
    /// without lock-free retraction (before 6.6): there MADV_COLLAPSE
    /// leaves every mapping but the caller's to khugepaged, queueing each
    /// (khugepaged_add_pte_mapped_thp) for its next visit of that process,
    /// which would retract them at some moment during the run. Set before
    /// populate: the write wakes khugepaged for one pass, done long before
    /// the collapse fills the queue.
    static let madviseHoldSleepMs = 600_000

    public static func forMadviseCollapse(current: [String: SysfsValue], kernel: KernelVersion) -> [Change] {
        guard !VersionRules.locklessRetraction.applies(kernel),
              let v = current.value(.scanSleepMillisecs).flatMap({ Int($0) }), v < madviseHoldSleepMs else { return [] }
        return [Change(name: Knob.scanSleepMillisecs.rawValue, value: "\(madviseHoldSleepMs)",
                       why: "before 6.6 MADV_COLLAPSE queues the other mappings for khugepaged to retract at its next visit; khugepaged sleeps through the run so that what is seen is MADV_COLLAPSE's own doing")]
    }

    /// khugepaged asleep while an access time is measured: its scans on
    /// another CPU take memory bandwidth and cache from every access, so a
    /// time taken while it is made fast is unlike one taken while it idles.
    public static func forQuietTiming(current: [String: SysfsValue]) -> [Change] {
        guard let v = current.value(.scanSleepMillisecs).flatMap({ Int($0) }), v < madviseHoldSleepMs else { return [] }
        return [Change(name: Knob.scanSleepMillisecs.rawValue, value: "\(madviseHoldSleepMs)",
                       why: "khugepaged sleeps while the chase is timed: its scans on another CPU would slow the accesses measured after the collapse and not those before")]
    }

    /// The shmem `huge` setting that governs the object once these knobs
    /// are in force: `deny`/`force` in shmem_enabled override everything,
    /// memfd follows shmem_enabled, a tmpfs file its mount's `huge=`.
    public static func effectiveShmemHuge(knobs: [String: SysfsValue], backing: Backing, mountHuge: String?) -> ShmemHuge? {
        guard backing.isShmem else { return nil }
        let global = knobs.value(.shmemEnabled).flatMap(ShmemHuge.init(rawValue:))
        if global == .deny || global == .force { return global }
        return backing == .memfd ? global : mountHuge.flatMap(ShmemHuge.init(rawValue:))
    }
}
