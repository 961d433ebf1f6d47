import Foundation
import Testing
@testable import THPLab

/// NUMA on this host (one node: placement on node 0, refusals) and in a
/// two-node guest of Debian's 6.1 booted with virtme-ng (spreading, node 1,
/// khugepaged's node choice).
extension KernelSuite {
@Suite struct NumaKernelTests {
    static var onlineNodes: [Int] {
        let text = (try? String(contentsOfFile: "/sys/devices/system/node/online", encoding: .utf8)) ?? "0"
        return text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").flatMap { part -> [Int] in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            return ends.count == 2 ? Array(ends[0]...ends[1]) : ends
        }
    }

    func run(_ args: [String], status: Int32 = 0) throws -> Invocation {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        let host = HostSnapshot()
        let r = try Thplab.run(args, timeout: 120)
        #expect(!r.timedOut)
        #expect(r.status == status, "\(args): exit \(r.status) \(r.stderr)")
        host.expectRestored()
        return r
    }

    func extentNodes(_ json: [String: Any], _ key: String) -> [[String: Int]] {
        (json["extents"] as? [[String: Any]] ?? []).map { $0[key] as? [String: Int] ?? [:] }
    }

    @Test func placementOnNodeZeroHoldsAndIsChecked() throws {
        let json = try run(["run", "collapse", "--node", "0", "--extents", "2", "--json", "-"]).json()
        let numa = try #require(json["numa"] as? [String: Any])
        #expect(numa["placement"] as? String == "bound to node 0")
        #expect(numa["placement_held"] as? Bool == true)
        #expect(extentNodes(json, "nodes_before") == [["0": 512], ["0": 512]])
        #expect(extentNodes(json, "nodes_after") == [["0": 512], ["0": 512]])
        #expect((numa["huge_pages_by_node"] as? [String: Int]) == ["0": 2])
    }

    @Test func snapshotCountsPagesPerNode() throws {
        // A quiescent process: its pages do not move while it is read twice.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        defer { kill(sleeper.processIdentifier, SIGKILL); sleeper.waitUntilExit() }
        usleep(200_000)
        let json = try run(["snapshot", "--pid", "\(sleeper.processIdentifier)", "--numa", "--json", "-"]).json()
        #expect((json["numa"] as? [String: Any])?["nodes"] != nil)
        let vmas = ((json["processes"] as? [[String: Any]])?.first?["vmas"] as? [[String: Any]]) ?? []
        var checked = 0
        for v in vmas {
            let numaMaps = v["numa"] as? [String: Any]
            #expect(numaMaps?["kernelpagesize_kb"] != nil, "every VMA has its numa_maps line")
            for e in v["extents"] as? [[String: Any]] ?? [] {
                let pages = e["pages"] as? [String: Any] ?? [:]
                let resident = ["pmd", "pte_thp", "mthp", "small"].reduce(0) { $0 + (pages[$1] as? Int ?? 0) }
                guard resident > 0 else { continue }
                let nodes = e["nodes"] as? [String: Int] ?? [:]
                #expect(nodes.values.reduce(0, +) == resident, "every resident page of the extent has a node")
                #expect(Set(nodes.keys).isSubset(of: Set(Self.onlineNodes.map(String.init))))
                checked += 1
            }
        }
        #expect(checked > 0)
    }

    static let badNodes: [[String]] = [["--node", "63"], ["--interleave", ""], ["--interleave", "0,0"], ["--preferred", "-1"],
                                       ["--interleave", "0,x"], ["--node", "0", "--interleave", "0"]]

    @Test(arguments: badNodes)
    func badNodesChangeNothing(args: [String]) throws {
        let r = try run(["run", "collapse", "--extents", "1"] + args, status: 2)
        #expect(!r.stderr.isEmpty && !r.stderr.contains("Fatal error"))
        #expect(!r.stderr.contains("creating"), "refused before anything was allocated: \(r.stderr)")
    }

    /// Nodes with memory decide: with fewer than two the scenario says why
    /// and exits 3; with two or more it runs. doctor counts the nodes either way.
    @Test func theNumaScenarioNeedsTwoNodesWithMemory() throws {
        let withMemory = NumaTopology.read().nodes.filter { $0.memTotalKB > 0 }.count
        if withMemory < 2 {
            let r = try run(["run", "numa"], status: 3)
            #expect(r.stderr.contains("two NUMA nodes") && r.stderr.contains("--numa"))
        } else {
            let r = try run(["run", "numa", "--extents", "1", "--json", "-"], status: 0)
            #expect(r.stdout.contains("\"huge_pages_by_node\""))
        }
        let doctor = try run(["doctor"])
        #expect(doctor.stdout.contains("\(Self.onlineNodes.count) online node(s)"))
    }

    /// A NUMA placement's result from the one two-node 6.1 guest the suite boots.
    func guest(_ label: String) throws -> [String: Any] {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        _ = try #require(KernelGate.kernel61, "Debian's 6.1 kernel is not installed: scripts/install-vm-tools")
        return try VMKernelTests.numaEntry(label)
    }

    /// Measured on Debian's 6.1 in a two-node guest: interleaved small pages
    /// (256 on each node per extent) collapse into huge pages on node 0, the
    /// first of the tied nodes.
    @Test func twoNodeGuestSpreadsThePagesAndKhugepagedPicksANode() throws {
        let json = try guest(GuestRuns.numaEntries[0])
        let numa = try #require(json["numa"] as? [String: Any])
        #expect((numa["nodes_before"] as? [[String: Any]])?.count == 2, "the guest sees two nodes")
        #expect(numa["placement"] as? String == "interleaved over nodes 0,1")
        #expect(numa["placement_held"] as? Bool == true)
        #expect(json["collapsed"] as? Int == 2)
        for (before, after) in zip(extentNodes(json, "nodes_before"), extentNodes(json, "nodes_after")) {
            #expect((before["0"] ?? 0) > 0 && (before["1"] ?? 0) > 0, "small pages on both nodes: \(before)")
            #expect(after.count == 1 && after.values.first == 512, "one huge page on one node: \(after)")
            let most = before.values.max() ?? 0
            #expect(after.keys.allSatisfy { before[$0] == most }, "the huge page goes to a node holding most pages: \(before) -> \(after)")
        }
        #expect((numa["huge_pages_by_node"] as? [String: Int] ?? [:]).values.reduce(0, +) == 2)
        #expect(json["ok"] as? Bool == true)
    }

    @Test func twoNodeGuestPlacesOnNodeOneAndTheHugePageFollows() throws {
        let json = try guest(GuestRuns.numaEntries[1])
        let numa = try #require(json["numa"] as? [String: Any])
        #expect(numa["placement"] as? String == "bound to node 1")
        #expect(numa["placement_held"] as? Bool == true)
        #expect(extentNodes(json, "nodes_before") == [["1": 512], ["1": 512]])
        #expect(extentNodes(json, "nodes_after") == [["1": 512], ["1": 512]])
        #expect((numa["huge_pages_by_node"] as? [String: Int]) == ["1": 2])
    }
}
}
