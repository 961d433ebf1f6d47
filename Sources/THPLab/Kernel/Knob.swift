/// A THP or khugepaged file under /sys/kernel/mm/transparent_hugepage, named
/// by its path below that directory. The constants are the catalogue that
/// code refers to; a user's name becomes a `Knob` only through
/// `KnobRequest`, which checks it against the catalogue and the kernel.
public struct Knob: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: Knob, b: Knob) -> Bool { a.rawValue < b.rawValue }

    public static let enabled = Knob(rawValue: "enabled")
    public static let defrag = Knob(rawValue: "defrag")
    public static let shmemEnabled = Knob(rawValue: "shmem_enabled")
    public static let useZeroPage = Knob(rawValue: "use_zero_page")
    public static let shrinkUnderused = Knob(rawValue: "shrink_underused")
    public static let hpagePmdSize = Knob(rawValue: "hpage_pmd_size")
    public static let khugepagedDefrag = Knob(rawValue: "khugepaged/defrag")
    public static let maxPtesNone = Knob(rawValue: "khugepaged/max_ptes_none")
    public static let maxPtesSwap = Knob(rawValue: "khugepaged/max_ptes_swap")
    public static let maxPtesShared = Knob(rawValue: "khugepaged/max_ptes_shared")
    public static let pagesToScan = Knob(rawValue: "khugepaged/pages_to_scan")
    public static let scanSleepMillisecs = Knob(rawValue: "khugepaged/scan_sleep_millisecs")
    public static let allocSleepMillisecs = Knob(rawValue: "khugepaged/alloc_sleep_millisecs")
    /// Read-only counters.
    public static let fullScans = Knob(rawValue: "khugepaged/full_scans")
    public static let pagesCollapsed = Knob(rawValue: "khugepaged/pages_collapsed")

    /// `hugepages-<kB>kB/enabled` and `.../shmem_enabled`: one size's policy.
    public static func sizeEnabled(kB: Int) -> Knob { Knob(rawValue: "hugepages-\(kB)kB/enabled") }
    public static func sizeShmemEnabled(kB: Int) -> Knob { Knob(rawValue: "hugepages-\(kB)kB/shmem_enabled") }
    /// The PMD size's own policies.
    public static let pmdEnabled = sizeEnabled(kB: PageGeometry.pmdSize >> 10)
    public static let pmdShmemEnabled = sizeShmemEnabled(kB: PageGeometry.pmdSize >> 10)

    /// The name without its `khugepaged/` directory, as the CLI shows it.
    public var shortName: String {
        rawValue.hasPrefix("khugepaged/") ? String(rawValue.dropFirst("khugepaged/".count)) : rawValue
    }
}

/// Knob values as read from sysfs, looked up by typed name.
extension Dictionary where Key == String, Value == SysfsValue {
    public subscript(knob: Knob) -> SysfsValue? { self[knob.rawValue] }
    /// The selected value.
    public func value(_ knob: Knob) -> String? { self[knob.rawValue]?.current }
    /// A numeric knob's value, or `fallback` when it is missing or not a number.
    public func int(_ knob: Knob, or fallback: Int) -> Int { self[knob.rawValue].flatMap { Int($0.current) } ?? fallback }
}

/// Knob values as results keep them (name -> selected value).
extension Dictionary where Key == String, Value == String {
    public subscript(knob: Knob) -> String? { self[knob.rawValue] }
    public func int(_ knob: Knob, or fallback: Int) -> Int { self[knob.rawValue].flatMap { Int($0) } ?? fallback }
}
