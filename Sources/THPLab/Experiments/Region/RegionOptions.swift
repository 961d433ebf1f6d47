import Foundation

/// The scenarios that tune khugepaged, on one region of `extents` 2 MiB
/// extents with `present` of each extent's 512 pages faulted in:
///   collapse  every page present; either trigger; any backing, anon included
///   sparse    `present` pages per extent; khugepaged collapses an extent only
///             if present >= 512 - max_ptes_none
///   latency   time from MADV_HUGEPAGE to each extent's collapse, and to full
///             coverage, from the tracepoints' own timestamps
///   swap      `swapped` pages of each extent pushed out with MADV_PAGEOUT;
///             khugepaged collapses an extent only if swapped <= max_ptes_swap
///   numa      every extent's small pages spread over the NUMA nodes before
///             the collapse; which node gets the huge page
public struct RegionOptions: Codable, Equatable, Sendable {
    public enum Scenario: String, Codable, CaseIterable, Sendable { case collapse, sparse, latency, swap, numa }

    public var scenario: Scenario = .collapse
    public var backing: Backing = .memfd
    public var extents: Int = 4
    /// Pages faulted in at the start of each extent (1...512).
    public var present: Int = 512
    /// Pages of each extent pushed out to swap (swap scenario).
    public var swapped: Int = 0
    public var trigger: Trigger = .khugepaged
    public var timeoutSeconds: Int = 60
    public var tmpfsHuge: TmpfsHuge = .advise
    public var directory: String = "."
    /// Wait the whole bound even when no collapse is expected.
    public var fullWait = false
    /// Regions in this many processes (thplab and workers), each its own
    /// object, competing for khugepaged (latency, collapse by khugepaged).
    public var processes = 1
    /// Show other processes' huge_memory events too.
    public var allEvents = false
    /// Where the region's pages go (NUMA); nil: the process's own policy.
    public var placement: Placement?

    enum CodingKeys: String, CodingKey {
        case scenario, backing, extents, present, swapped, trigger, directory, fullWait = "full_wait", processes
        case allEvents = "all_events", placement
        case timeoutSeconds = "timeout_seconds", tmpfsHuge = "tmpfs_huge"
    }

    public init(scenario: Scenario = .collapse) {
        self.scenario = scenario
        present = scenario.rules.defaultPresent
        if scenario == .swap { swapped = 128 }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(scenario: try c.decodeIfPresent(Scenario.self, forKey: .scenario) ?? .collapse)
        backing = try c.decodeIfPresent(Backing.self, forKey: .backing) ?? backing
        extents = try c.decodeIfPresent(Int.self, forKey: .extents) ?? extents
        present = try c.decodeIfPresent(Int.self, forKey: .present) ?? present
        swapped = try c.decodeIfPresent(Int.self, forKey: .swapped) ?? swapped
        trigger = try c.decodeIfPresent(Trigger.self, forKey: .trigger) ?? trigger
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? timeoutSeconds
        tmpfsHuge = try c.decodeIfPresent(TmpfsHuge.self, forKey: .tmpfsHuge) ?? tmpfsHuge
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
        fullWait = try c.decodeIfPresent(Bool.self, forKey: .fullWait) ?? fullWait
        processes = try c.decodeIfPresent(Int.self, forKey: .processes) ?? processes
        allEvents = try c.decodeIfPresent(Bool.self, forKey: .allEvents) ?? allEvents
        placement = try c.decodeIfPresent(Placement.self, forKey: .placement)
    }

    public func validate(memAvailableKB: Int64?, topology: NumaTopology) throws {
        guard (1...4096).contains(extents) else { throw THPLabError.usage("--extents must be from 1 to 4096") }
        guard (1...PageGeometry.pagesPerPmd).contains(present) else { throw THPLabError.usage("--present must be from 1 to \(PageGeometry.pagesPerPmd) pages of each extent") }
        guard (1...3600).contains(timeoutSeconds) else { throw THPLabError.usage("--timeout must be from 1 to 3600 seconds") }
        if let placement {
            try placement.validate(topology)
            guard processes == 1 else { throw THPLabError.usage("--node, --interleave and --preferred place thplab's own region: use them with --processes 1") }
        }
        if scenario != .collapse && scenario != .numa && trigger != .khugepaged {
            throw THPLabError.usage("\(scenario.rawValue) is about khugepaged: use --trigger khugepaged (MADV_COLLAPSE ignores max_ptes_* and has no latency)")
        }
        guard (1...16).contains(processes) else { throw THPLabError.usage("--processes must be from 1 to 16") }
        if processes > 1 {
            guard scenario == .latency || (scenario == .collapse && trigger == .khugepaged), backing != .anon else {
                throw THPLabError.usage("--processes above 1 is for latency and collapse --trigger khugepaged, on shmem or file regions (each process gets its own object)")
            }
        }
        try scenario.rules.validate(self, topology: topology)
        if backing == .file && !Sys.isDirectory(directory) { throw THPLabError.usage("--dir \(directory) is not a directory") }
        let needed = Int64(extents * processes) * 2 * Int64(PageGeometry.pmdSize) + (64 << 20)
        if let memAvailableKB, needed > memAvailableKB * 1024 {
            throw THPLabError.usage("\(extents) extents need about \(needed >> 20) MiB, but only \(memAvailableKB >> 10) MiB is available")
        }
    }
}

