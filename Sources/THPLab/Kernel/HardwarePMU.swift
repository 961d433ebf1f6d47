/// Whether the CPU's performance counters are there for perf_event_open
/// (`/sys/bus/event_source/devices/cpu`, or `cpu_core`/`cpu_atom` on hybrid
/// parts). A VM without a virtual PMU has none.
enum HardwarePMU {
    static let devices = ["cpu", "cpu_core", "cpu_atom"].map { "/sys/bus/event_source/devices/" + $0 }

    static var present: Bool { devices.contains { Sys.exists($0) } }

    /// What `run benefit` can say of dTLB misses and page walks here.
    static func benefitNote(present: Bool = present) -> String {
        present
            ? "a hardware PMU is present, but thplab does not count dTLB misses and page-walk cycles yet: times only"
            : "no hardware PMU here (no /sys/bus/event_source/devices/cpu): dTLB misses and page-walk cycles cannot be counted, times only"
    }
}
