/// `run numa`: every extent's small pages spread over the NUMA nodes with
/// memory before the collapse; which node gets the huge page, and whether a
/// scan gave up (scan_aborted).
struct NumaScenario: RegionScenario {
    var name: RegionOptions.Scenario { .numa }
    var abstract: String { "Small pages of each extent spread over the NUMA nodes, then a khugepaged collapse: which node gets the huge page?" }
    var discussion: String {
        "Populates every extent interleaved over the nodes with memory (or --interleave / --node), then lets khugepaged collapse it and reports, extent by extent, the nodes of the small pages before and of the huge page after, and any scan_aborted result (khugepaged gives up when the pages sit on nodes too far apart and node_reclaim_mode is set). Needs two nodes with memory: on a one-node host it says so and exits 3; try it in a two-node guest: thplab vm --kernel K --cpus 2 --numa 1G,cpus=0 --numa 1G,cpus=1 -- run numa"
    }
    /// It has no knob of its own to sweep.
    var sweepable: Bool { false }
    var allowsMadviseCollapse: Bool { true }

    func validate(_ o: RegionOptions, topology: NumaTopology) throws {
        let withMemory = topology.nodes.filter { $0.memTotalKB > 0 }
        guard withMemory.count >= 2 else {
            throw THPLabError(.unsupported, "the numa scenario needs two NUMA nodes with memory; this host has \(withMemory.count). Run it in a two-node guest: thplab vm --kernel K --memory 2G --cpus 2 --numa 1G,cpus=0 --numa 1G,cpus=1 -- run numa")
        }
    }

    func defaultPlacement(_ topology: NumaTopology) -> Placement? {
        .interleave(topology.nodes.filter { $0.memTotalKB > 0 }.map(\.node))
    }

    func conclude(_ outcomes: [ExtentOutcome], numa: NumaRunSummary?, lab: Lab) {
        guard let byNode = numa?.hugePagesByNode else { return }
        let aborted = outcomes.filter { $0.diagnosis?.events.contains { $0.result == ScanResultMeaning.scanAborted } == true }.count
        lab.note("huge pages by node: " + byNode.sorted { $0.key < $1.key }.map { "node \($0.key): \($0.value)" }.joined(separator: ", ")
                 + (aborted > 0 ? "; \(aborted) extent(s) saw scan_aborted (pages too far apart, node_reclaim_mode)" : "; no scan_aborted"))
    }

    var ruleSuffix: String {
        "; the huge page is allocated on the first node holding most of the extent's pages (hpage_collapse_find_target_node(); nodes tied with it are only fallbacks, so a 256/256 split goes to the lower node, as measured on Debian's 6.1), and a scan gives up (scan_aborted) when the pages sit on nodes further apart than node_reclaim_distance while node_reclaim_mode is on"
    }
}

extension RegionOptions.Scenario {
    public static let numa = Self(declaring: "numa")
}
