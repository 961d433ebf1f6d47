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
        ["enabled", "hugepages-2048kB/enabled"].compactMap { name in
            guard current[name]?.current == "always" else { return nil }
            return Change(name: name, value: name == "enabled" ? "madvise" : "inherit",
                          why: "always would allocate anonymous huge pages at fault; populate must start from small pages")
        }
    }

    /// Before populate: no shmem setting may make faults allocate huge pages,
    /// or there would be nothing left to collapse.
    public static func forPopulate(current: [String: SysfsValue]) -> [Change] {
        current.keys.sorted().compactMap { name in
            guard name == "shmem_enabled" || (name.hasPrefix("hugepages-") && name.hasSuffix("/shmem_enabled")),
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
        func lower(_ name: String, to value: Int, _ why: String) {
            if let v = current[name].flatMap({ Int($0.current) }), v > value {
                out.append(Change(name: name, value: "\(value)", why: why))
            }
        }
        lower("khugepaged/scan_sleep_millisecs", to: 10, "wake khugepaged every 10 ms instead of waiting between passes")
        lower("khugepaged/alloc_sleep_millisecs", to: 10, "retry soon after a failed huge page allocation")
        if let v = current["khugepaged/pages_to_scan"].flatMap({ Int($0.current) }), v < 4096 {
            out.append(Change(name: "khugepaged/pages_to_scan", value: "4096", why: "scan the whole object in one pass"))
        }
        guard backing.isShmem else { return out }
        if backing == .memfd, let v = current["shmem_enabled"]?.current, v == "never" {
            out.append(Change(name: "shmem_enabled", value: "advise",
                              why: "memfd follows shmem_enabled; advise lets khugepaged collapse MADV_HUGEPAGE ranges"))
        }
        if current["hugepages-2048kB/shmem_enabled"]?.current == "never" {
            out.append(Change(name: "hugepages-2048kB/shmem_enabled", value: "inherit",
                              why: "never here would forbid PMD-sized shmem folios whatever the global setting"))
        }
        return out
    }

    /// The shmem `huge` setting that governs the object once these knobs
    /// are in force: `deny`/`force` in shmem_enabled override everything,
    /// memfd follows shmem_enabled, a tmpfs file its mount's `huge=`.
    public static func effectiveShmemHuge(knobs: [String: SysfsValue], backing: Backing, mountHuge: String?) -> String? {
        guard backing.isShmem else { return nil }
        let global = knobs["shmem_enabled"]?.current
        if global == "deny" || global == "force" { return global }
        return backing == .memfd ? global : mountHuge
    }
}
