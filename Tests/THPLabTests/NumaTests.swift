import Foundation
import Testing
@testable import THPLab

/// NUMA sysfs and procfs readers on files from this host (one node) and
/// from a two-node guest of Debian's 6.1; placement rules.
@Suite struct NumaTests {
    @Test func nodeMeminfo() throws {
        let host = NumaTopology.parseMeminfo(try Fixture.text("node0-meminfo-6.18.txt"))
        #expect((host["MemTotal"] ?? 0) > 1 << 20)
        for line in NumaTopology.hugeLines { #expect(host[line] != nil, "\(line)") }
        let guest = NumaTopology.parseMeminfo(try Fixture.text("node1-meminfo-2node-6.1.txt"))
        #expect((guest["MemTotal"] ?? 0) > 900 << 10 && (guest["MemTotal"] ?? 0) < 1 << 20, "a 1 GiB node")
        #expect(guest["ShmemPmdMapped"] != nil)
    }

    @Test func sysfsLists() throws {
        #expect(NumaTopology.parseList("0-2,4\n") == [0, 1, 2, 4])
        #expect(NumaTopology.parseList("0") == [0])
        #expect(NumaTopology.parseListStrict("1-0") == nil)
        #expect(NumaTopology.parseListStrict("x") == nil)
        // Found by scripts/fuzz (a timeout): a range of 44 million ids.
        let huge = try Fixture.text("fuzz-node-list-huge-range.txt")
        #expect(NumaTopology.parseListStrict(huge) == nil)
        #expect(NumaTopology.parseListStrict("0-9223372036854775806") == nil)
        #expect(NumaTopology.parseListStrict("0-8191")?.count == 8192)
        #expect(throws: THPLabError.self) { try Placement.nodeList("") }
        #expect(throws: THPLabError.self) { try Placement.nodeList("0,,1") }
        #expect(try Placement.nodeList("0-1") == [0, 1])
    }

    @Test func numaMapsOfAGuestProcess() throws {
        let maps = NumaMaps.parse(try Fixture.text("numa_maps-6.1.txt"))
        #expect(maps.count == 22)
        let first = try #require(maps[0x5651_a3f6_5000])
        #expect(first.policy == "default")
        #expect(first.pagesPerNode == [1: 2])
        #expect(first.kernelPageSizeKB == 4)
        #expect(first.kbPerNode == [1: 8])
        let huge = NumaMaps.parse("7f0000000000 interleave:0-1 file=/memfd:x\\040(deleted) dirty=1024 N0=512 N1=512 kernelpagesize_kB=4\n")
        #expect(huge[0x7f00_0000_0000]?.pagesPerNode == [0: 512, 1: 512])
        #expect(huge[0x7f00_0000_0000]?.policy == "interleave:0-1")
    }

    func topology() -> NumaTopology {
        NumaTopology(nodes: [
            NumaNode(node: 0, memTotalKB: 1 << 20, memFreeKB: 1 << 19, hugeKB: [:], distances: [10, 20], cpus: "0"),
            NumaNode(node: 1, memTotalKB: 0, memFreeKB: 0, hugeKB: [:], distances: [20, 10], cpus: "1"),
        ])
    }

    @Test(arguments: [(Placement.bind(2), "does not exist"), (.bind(1), "no memory"), (.preferred(5), "does not exist"),
                      (.interleave([]), "at least one node"), (.interleave([0, 0]), "twice"), (.interleave([0, 1]), "no memory")])
    func badNodesAreRefused(placement: Placement, says: String) {
        let e = #expect(throws: THPLabError.self) { try placement.validate(topology()) }
        #expect(e?.exitCode == 2)
        #expect(e?.message.contains(says) == true, "\(e?.message ?? "")")
    }

    @Test(arguments: [Placement.bind(0), .interleave([0]), .preferred(0)])
    func goodPlacementsPass(placement: Placement) {
        #expect(throws: Never.self) { try placement.validate(topology()) }
    }

    @Test func placementCheckSaysWhatHappened() {
        #expect(Placement.bind(1).check(pagesPerNode: [1: 512]) == nil)
        #expect(Placement.bind(1).check(pagesPerNode: [0: 12, 1: 500])?.contains("12 of 512 pages are elsewhere") == true)
        #expect(Placement.interleave([0, 1]).check(pagesPerNode: [0: 256, 1: 256]) == nil)
        #expect(Placement.interleave([0, 1]).check(pagesPerNode: [0: 512]) != nil, "node 1 got nothing")
        #expect(Placement.preferred(0).check(pagesPerNode: [:]) == nil, "nothing present: nothing to say")
    }

    @Test func pfnToNodeThroughMemoryBlocks() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-numa-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/memory", withIntermediateDirectories: true)
        try "8000000\n".write(toFile: root + "/memory/block_size_bytes", atomically: false, encoding: .utf8)
        for (node, blocks) in [(0, [0, 1]), (1, [2, 3])] {
            for b in blocks { try fm.createDirectory(atPath: root + "/node/node\(node)/memory\(b)", withIntermediateDirectories: true) }
        }
        let map = PfnNodeMap.read(nodes: [0, 1], root: root)
        #expect(map.node(ofPFN: 0) == 0)
        #expect(map.node(ofPFN: 0x8000 * 2 - 1) == 0, "end of block 1 (128 MiB blocks of 32768 pages)")
        #expect(map.node(ofPFN: 0x8000 * 2) == 1)
        #expect(map.node(ofPFN: 0x8000 * 9) == nil, "no such block")
        #expect(PfnNodeMap.read(nodes: [0], root: root).node(ofPFN: 123_456_789) == 0, "one node: every PFN is on it")
    }
}
