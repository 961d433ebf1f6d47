/// What `thplab doctor` found: plain values, rendered as text or JSON.
public struct DoctorReport: Codable, Sendable {
    public struct Check: Codable, Sendable {
        public var name: String
        /// true: works; false: does not; nil: could not be told.
        public var ok: Bool?
        public var detail: String
    }

    public struct ScenarioSupport: Codable, Sendable {
        public var scenario: String
        public var canRun: Bool
        /// What it needs that is missing, or what the user should know.
        public var why: String

        enum CodingKeys: String, CodingKey { case scenario, canRun = "can_run", why }
    }

    public var kernelRelease: String
    public var machine: String
    public var thpSysfs: Bool
    public var knobs: [String: SysfsValue]
    public var counters: [String: Int64]
    public var checks: [Check]
    public var numaNodes: Int?
    /// Online nodes: memory, huge-page lines, distances, CPUs.
    public var numa: NumaTopology?
    public var scenarios: [ScenarioSupport]
    /// This kernel's capability table, from its own files.
    public var capabilities: Capabilities?

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", machine, thpSysfs = "thp_sysfs", knobs, counters, checks
        case numaNodes = "numa_nodes", numa, scenarios, capabilities
    }

    public func check(_ name: String) -> Check? { checks.first { $0.name == name } }
}
