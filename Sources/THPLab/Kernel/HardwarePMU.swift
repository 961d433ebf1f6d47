import SystemPackage

/// Whether the CPU's performance counters are there for perf_event_open
/// (`/sys/bus/event_source/devices/cpu`, or `cpu_core`/`cpu_atom` on hybrid
/// parts). A VM without a virtual PMU has none.
enum HardwarePMU {
    static let devices = ["cpu", "cpu_core", "cpu_atom"].map { "/sys/bus/event_source/devices/" + $0 }

    static var present: Bool { devices.contains { Sys.exists($0) } }

    /// The CPU as /proc/cpuinfo names it: vendor_id (GenuineIntel,
    /// AuthenticAMD, ...), cpu family and model.
    struct CPU: Equatable {
        var vendor: String
        var family: Int
        var model: Int

        init(vendor: String, family: Int, model: Int) {
            self.vendor = vendor
            self.family = family
            self.model = model
        }

        init?(cpuinfo: String?) {
            guard let cpuinfo else { return nil }
            var fields: [String: String] = [:]
            for line in cpuinfo.split(separator: "\n") {
                if line.isEmpty { break }
                let kv = line.split(separator: ":", maxSplits: 1).map { String($0.trimmingWhitespace()) }
                if kv.count == 2, fields[kv[0]] == nil { fields[kv[0]] = kv[1] }
            }
            guard let vendor = fields["vendor_id"] else { return nil }
            self.init(vendor: vendor, family: fields["cpu family"].flatMap { Int($0) } ?? 0, model: fields["model"].flatMap { Int($0) } ?? 0)
        }

        static func read() -> CPU? { CPU(cpuinfo: FileIO.readIfPresent("/proc/cpuinfo")) }

        var name: String { "\(vendor) family \(family) model \(model)" }
    }

    /// Intel family 6 cores whose load page-walk cycles are event 0x08
    /// (Haswell, Broadwell, Skylake and its server and client kin), and
    /// those where it is 0x12 (Ice Lake, Tiger Lake, Alder and Raptor Lake's
    /// big cores, Sapphire, Emerald and Granite Rapids, Meteor Lake).
    static let walkEvent08: Set<Int> = [0x3C, 0x3F, 0x45, 0x46, 0x3D, 0x47, 0x4F, 0x56, 0x4E, 0x5E, 0x55, 0x8E, 0x9E, 0xA5, 0xA6]
    static let walkEvent12: Set<Int> = [0x6A, 0x6C, 0x7D, 0x7E, 0x8C, 0x8D, 0x8F, 0xCF, 0x97, 0x9A, 0xB7, 0xBA, 0xBF, 0xAA, 0xAD, 0xAE]

    /// The page-walk cycles event of this CPU, if thplab knows it.
    static func walkCycles(_ cpu: CPU?) -> PerfEvent? {
        guard let cpu, cpu.vendor == "GenuineIntel", cpu.family == 6 else { return nil }
        if walkEvent08.contains(cpu.model) { return .intelLoadWalkCycles(eventCode: 0x08) }
        if walkEvent12.contains(cpu.model) { return .intelLoadWalkCycles(eventCode: 0x12) }
        return nil
    }

    /// What `run benefit` counts per load of the chase: dTLB misses (the
    /// generic event) and page-walk cycles where thplab knows the CPU's event.
    static func benefitEvents(_ cpu: CPU?) -> [PerfEvent] { [.dtlbLoadMisses] + (walkCycles(cpu).map { [$0] } ?? []) }

    /// What `run benefit` says of dTLB misses and page walks here.
    static func benefitNote(present: Bool = present, counting: [PerfEvent] = [], refused: [(event: PerfEvent, errno: Errno)] = [],
                            cpu: CPU? = nil) -> String {
        guard present else {
            return "no hardware PMU here (no /sys/bus/event_source/devices/cpu): dTLB misses and page-walk cycles cannot be counted, times only"
        }
        var parts: [String] = []
        if !counting.isEmpty { parts.append("counted per load of the chase: " + counting.map(\.name).joined(separator: ", ")) }
        if !refused.isEmpty {
            parts.append("the kernel would not open " + refused.map { "\($0.event.name) (\(ErrnoName.of($0.errno)))" }.joined(separator: ", "))
        }
        if walkCycles(cpu) == nil {
            parts.append("page-walk cycles have no generic event, and thplab does not know this CPU's own one (\(cpu?.name ?? "unknown CPU"))")
        }
        return parts.joined(separator: "; ")
    }
}
