import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// The counters `run benefit` reads through perf_event_open, checked with
/// the software events every kernel has: a group counts exactly what was
/// done between its enable and disable. Whether the hardware events open is
/// the machine's fact and is checked both ways.
@Suite struct PerfKernelTests {
    @Test func aGroupCountsExactlyThePageFaultsOfItsWork() throws {
        let pages = 300
        let region = try MappedRegion(anonymousLength: pages * PageGeometry.pageSize + PageGeometry.pmdSize)
        try region.madvise(.noHugepage)
        let group = PerfGroup([.pageFaults, .taskClock])
        #expect(group.refused.isEmpty, "\(group.refused)")
        // The code that writes is faulted in first, on a page outside the count.
        _ = group.count { region.writePages(offset: pages * PageGeometry.pageSize, length: PageGeometry.pageSize) }
        let (_, counts) = group.count { region.writePages(offset: 0, length: pages * PageGeometry.pageSize) }
        #expect(counts[.pageFaults] == Double(pages), "one fault per fresh small page: \(counts)")
        #expect((counts[.taskClock] ?? 0) > 0)
        // The same pages again: present now, no fault.
        let (_, again) = group.count { region.writePages(offset: 0, length: pages * PageGeometry.pageSize) }
        #expect(again[.pageFaults] == 0, "\(again)")
    }

    /// dTLB misses open exactly where the CPU's PMU is there.
    @Test func hardwareEventsOpenWhereThereIsAPMU() {
        let group = PerfGroup([.dtlbLoadMisses])
        #expect(group.counting.isEmpty == !HardwarePMU.present, "PMU present: \(HardwarePMU.present); refused: \(group.refused)")
    }
}
}
