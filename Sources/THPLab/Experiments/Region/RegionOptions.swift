
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
///   bloat     `present` (--touched) pages per extent written; the memory a
///             collapse adds by filling the rest with zeros, then what the
///             underused-THP shrinker gives back under the run's own
///             memory cgroup's pressure
///   shared    every page written, then a forked child keeps `shared` of
///             them shared copy-on-write; khugepaged collapses an extent
///             only if shared <= max_ptes_shared
@dynamicMemberLookup
public struct RegionOptions: ComposedOptions, Equatable, Sendable {
    /// Regions in `processes` processes (thplab and workers), each its own
    /// object, competing for khugepaged (latency, collapse by khugepaged).
    public var common = ExperimentOptions(processes: 1, trigger: .khugepaged)
    public var own: Own

    /// The region scenarios' own options.
    public struct Own: Codable, Equatable, Sendable {
        public var scenario: Scenario = .collapse
        public var extents: Int = 4
        /// Pages faulted in at the start of each extent (1...512).
        public var present: Int = PageGeometry.pagesPerPmd
        /// Pages of each extent pushed out to swap (swap scenario).
        public var swapped: Int = 0
        /// Where the region's pages go (NUMA); nil: the process's own policy.
        public var placement: Placement?
        /// Where the swap scenario makes its swap file when the host has no
        /// swap (nil: /var/tmp); a filesystem that cannot hold swap makes it
        /// use zram.
        public var swapDirectory: String?
        /// Pages of each extent left shared copy-on-write with a forked
        /// child (shared scenario).
        public var shared: Int?

        enum CodingKeys: String, CodingKey {
            case scenario, extents, present, swapped, placement, swapDirectory = "swap_directory", shared
        }
    }

    public init(scenario: Scenario = .collapse) {
        let rules = scenario.rules
        own = Own(scenario: scenario, extents: rules.defaultExtents, present: rules.defaultPresent, swapped: rules.defaultSwapped)
        common.trigger = rules.defaultTrigger
        common.backing = rules.defaultBacking
    }

    public init(common: ExperimentOptions, own: Own) {
        self.common = common
        self.own = own
    }

    public func validate(room: MemoryRoom?, topology: NumaTopology) throws {
        let o = own, n = PageGeometry.pagesPerPmd, rules = o.scenario.rules
        guard (1...4096).contains(o.extents) else { throw THPLabError.usage("--extents must be from 1 to 4096") }
        if rules.countsTouchedPages {
            guard (0...n).contains(o.present) else { throw THPLabError.usage("--touched must be from 0 to \(n) pages of each extent (given \(o.present))") }
        } else {
            guard (1...n).contains(o.present) else { throw THPLabError.usage("--present must be from 1 to \(n) pages of each extent") }
        }
        try common.validate(maxProcesses: 16)
        if let placement = o.placement {
            try placement.validate(topology)
            guard common.processes == 1 else { throw THPLabError.usage("--node, --interleave and --preferred place thplab's own region: use them with --processes 1") }
        }
        if !rules.allowsMadviseCollapse && common.trigger != .khugepaged {
            throw THPLabError.usage("\(o.scenario.rawValue) is about khugepaged: use --trigger khugepaged (MADV_COLLAPSE ignores max_ptes_* and has no latency)")
        }
        if common.processes > 1 {
            guard rules.allowsProcesses(trigger: common.trigger), common.backing != .anon else {
                throw THPLabError.usage("--processes above 1 is for latency and collapse --trigger khugepaged, on shmem or file regions (each process gets its own object)")
            }
        }
        if !rules.holders.isEmpty {
            guard common.backing != .anon else {
                throw THPLabError.usage("\(o.scenario.rawValue) maps its object in another process too: give --backing memfd, tmpfs, shm or file")
            }
            guard o.present == n else { throw THPLabError.usage("\(o.scenario.rawValue) maps its object in another process, which faults in every page: give --present \(n)") }
        }
        try rules.validate(self, topology: topology)
        let needed = Int64(o.extents * common.processes) * 2 * Int64(PageGeometry.pmdSize) + (64 << 20)
        if let room, needed > room.kb * 1024 {
            throw THPLabError.usage("\(o.extents) extents need about \(needed >> 20) MiB, but only \(room.kb >> 10) MiB is available (\(room.source)); choose fewer --extents")
        }
    }
}
