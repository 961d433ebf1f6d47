/// `run collapse`: every page of every extent present; either trigger; any
/// backing, anonymous memory included. The baseline the others vary: the
/// shared phases and the max_ptes_none rule, nothing of its own.
struct CollapseScenario: RegionScenario {
    var name: RegionOptions.Scenario { .collapse }
    var abstract: String { "The simplest experiment: one fully populated region, collapsed by MADV_COLLAPSE or khugepaged." }
    var discussion: String { "Any backing, anonymous memory included: the baseline against which file and shmem collapse compare." }
    var defaultTrigger: Trigger { .madvise }
    var allowsMadviseCollapse: Bool { true }
    /// Processes competing for khugepaged; MADV_COLLAPSE runs in thplab alone.
    func allowsProcesses(trigger: Trigger) -> Bool { trigger == .khugepaged }
}

extension RegionOptions.Scenario {
    public static let collapse = Self(declaring: "collapse")
}
