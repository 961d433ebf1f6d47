import Foundation
import SystemPackage
import Testing
@testable import THPLab

extension KernelSuite {
/// The scan on every core against the single-threaded one, on this test
/// process kept still: a 512 MiB memfd, its first half collapsed to
/// PMD-mapped huge pages and its second half small, and 64 MiB of it
/// mapped again 4 KiB off (PTE-mapped THPs): every extent the same.
@Suite struct ParallelScanKernelTests {
    @Test func theScanOnEveryCoreGivesTheSingleThreadedAnswer() throws {
        try #require(KernelGate.available)
        let huge = PageGeometry.pmdSize, size = 512 << 20
        let fd = try Sys.memfdCreate(name: "thplab-test-parallel")
        defer { try? fd.close() }
        try Sys.ftruncate(fd, size: Int64(size))
        let region = try MappedRegion(fd: fd, length: size, fileOffset: 0, shared: true)
        try region.madvise(.populateWrite)
        var collapsed = 0
        for k in 0..<(size / huge / 2) {
            if case .success = Sys.result({ try Sys.madvise(address: region.start + UInt(k * huge), length: huge, .collapse) }) { collapsed += 1 }
        }
        try #require(collapsed > 0, "MADV_COLLAPSE collapsed nothing: the test would compare small pages only")
        let misaligned = try MappedRegion(fd: fd, length: 64 << 20, fileOffset: 0, shared: true, misalignBy: 4096)
        try misaligned.madvise(.populateRead)

        let ours = [region.start, misaligned.start]
        func mine(_ p: ProcessCoverage) -> [VmaCoverage] {
            p.vmas.filter { v in ours.contains { v.start <= $0 && $0 < v.end } }
        }
        let one = mine(try SnapshotTaker.process(pid: getpid(), withPages: true, workers: 1))
        let many = mine(try SnapshotTaker.process(pid: getpid(), withPages: true, workers: 2))
        try #require(one.count == 2 && many.count == 2)
        let pmd = one.reduce(0) { $0 + $1.pages.pmd }, pte = one.reduce(0) { $0 + $1.pages.pteThp }
        #expect(pmd == collapsed * PageGeometry.pagesPerPmd, "pmd \(pmd) for \(collapsed) collapsed extents")
        let whole = try #require(one.first { $0.start <= region.start && region.start < $0.end })
        #expect(pte > 0 && whole.pages.small > 0, "\(one.map(\.pages))")
        for (a, b) in zip(one, many) {
            #expect(a.pages == b.pages)
            #expect(a.extents.count == b.extents.count)
            for (x, y) in zip(a.extents, b.extents) where x != y {
                Issue.record("extent \(String(x.start, radix: 16)): one thread \(x.pages), every core \(y.pages)")
            }
        }
        print("parallel scan: \(one.reduce(0) { $0 + $1.extents.count }) extents (\(pmd) pmd, \(pte) pte-mapped THP pages), the same on 1 and 2 workers")
    }
}
}
