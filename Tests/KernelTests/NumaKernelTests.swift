import Foundation
import Testing

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

    static let badNodes: [[String]] = [["--node", "63"], ["--interleave", ""], ["--interleave", "0,0"], ["--preferred", "-1"],
                                       ["--interleave", "0,x"], ["--node", "0", "--interleave", "0"]]

    @Test(arguments: badNodes)
    func badNodesChangeNothing(args: [String]) throws {
        let r = try run(["run", "collapse", "--extents", "1"] + args, status: 2)
        #expect(!r.stderr.isEmpty && !r.stderr.contains("Fatal error"))
        #expect(!r.stderr.contains("creating"), "refused before anything was allocated: \(r.stderr)")
    }

    @Test func theNumaScenarioSaysWhyItCannotRunOnOneNode() throws {
        try #require(Self.onlineNodes.count == 1, "this host has several nodes: the two-node tests cover it")
        let r = try run(["run", "numa"], status: 3)
        #expect(r.stderr.contains("two NUMA nodes") && r.stderr.contains("--numa"))
        let doctor = try run(["doctor"])
        #expect(doctor.stdout.contains("1 online node(s)"))
    }

    func guest(_ args: [String]) throws -> [String: Any] {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        let kernel = try #require(KernelGate.kernel61, "Debian's 6.1 kernel is not installed: scripts/install-vm-tools")
        let host = HostSnapshot()
        let r = try Thplab.run(["vm", "--kernel", kernel, "--memory", "2G", "--numa", "1G,cpus=0", "--numa", "1G,cpus=1",
                                "--json", "-", "--"] + args, timeout: 900)
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(r.stderr)")
        host.expectRestored()
        return try #require(try r.json()["result"] as? [String: Any], "no result from the guest: \(r.stdout.suffix(500))")
    }

    /// Measured on Debian's 6.1 in a two-node guest: interleaved small pages
    /// (256 on each node per extent) collapse into huge pages on node 0, the
    /// first of the tied nodes.
    @Test func twoNodeGuestSpreadsThePagesAndKhugepagedPicksANode() throws {
        let json = try guest(["run", "numa", "--extents", "2"])
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
        let json = try guest(["run", "numa", "--node", "1", "--extents", "2"])
        let numa = try #require(json["numa"] as? [String: Any])
        #expect(numa["placement"] as? String == "bound to node 1")
        #expect(numa["placement_held"] as? Bool == true)
        #expect(extentNodes(json, "nodes_before") == [["1": 512], ["1": 512]])
        #expect(extentNodes(json, "nodes_after") == [["1": 512], ["1": 512]])
        #expect((numa["huge_pages_by_node"] as? [String: Int]) == ["1": 2])
    }
}
}
