import Testing
@testable import THPLab

@Suite struct ExplainerTests {
    func vma(kind: VmaKind, start: UInt = 0x7f00_0000_0000, length: UInt = 0x40_0000, offset: UInt64 = 0,
             name: String = "/memfd:x (deleted)", flags: [String] = ["rd", "wr", "sh"], small: Int = 1024, anon: Int = 0) -> VmaCoverage {
        var c = ClassCounts()
        c.small = small
        c.anon = anon
        return VmaCoverage(start: start, end: start + length, permissions: "rw-s",
                           backing: VmaBacking(name: name, device: "00:01", inode: kind == .anon ? 0 : 5, offset: offset),
                           kind: kind, pages: c, kb: c.kb(), coveragePercent: 0, smaps: [:], vmFlags: flags, thpEligible: nil,
                           crosscheck: CrossCheck(pageTablesPmdKB: 0, smapsPmdKB: 0), extents: [])
    }

    func ctx(_ knobs: [String: String], rothp: Bool? = false, mountHuge: String? = "never") -> Explainer.Context {
        Explainer.Context(knobs: knobs, readOnlyThpForFS: rothp, mountHuge: { _ in mountHuge })
    }

    @Test func eligibleShmemUnderAdviseWithMadvHugepage() {
        let e = Explainer.explain(vma(kind: .shmem, flags: ["rd", "wr", "sh", "hg"]), ctx(["shmem_enabled": "advise"]))
        #expect(e.blockers.isEmpty)
        #expect(e.wholeExtents == 2)
        #expect(e.aligned == true)
        #expect(e.verdict.hasPrefix("eligible"))
    }

    @Test func everyBlockerIsInferredAndNamed() {
        let misaligned = Explainer.explain(vma(kind: .shmem, start: 0x7f00_0000_1000, flags: ["sh", "hg", "nh", "uw"]),
                                           ctx(["shmem_enabled": "advise"]))
        #expect(misaligned.aligned == false)
        #expect(misaligned.blockers.allSatisfy { $0.hasPrefix("inferred: ") })
        for word in ["congruent", "MADV_NOHUGEPAGE", "userfaultfd"] {
            #expect(misaligned.blockers.contains { $0.contains(word) }, "\(word)")
        }
        let never = Explainer.explain(vma(kind: .shmem), ctx(["shmem_enabled": "never"]))
        #expect(never.blockers.contains { $0.contains("never") })
        let adviseNoHg = Explainer.explain(vma(kind: .shmem), ctx(["shmem_enabled": "advise"]))
        #expect(adviseNoHg.blockers.contains { $0.contains("no MADV_HUGEPAGE") })
        let cow = Explainer.explain(vma(kind: .shmem, flags: ["rd", "wr", "hg"], anon: 1), ctx(["shmem_enabled": "advise"]))
        #expect(cow.anonKBInFileMapping == 4)
        #expect(cow.blockers.contains { $0.contains("copy-on-write") })
        let file = Explainer.explain(vma(kind: .file, name: "/usr/lib/libc.so.6"), ctx([:], rothp: false))
        #expect(file.blockers.contains { $0.contains("CONFIG_READ_ONLY_THP_FOR_FS") })
        let anon = Explainer.explain(vma(kind: .anon, name: "", flags: ["rd", "wr"]),
                                     ctx(["enabled": "madvise", "hugepages-2048kB/enabled": "inherit"]))
        #expect(anon.blockers.contains { $0.contains("madvise") })
        #expect(anon.aligned == nil)
        let tiny = Explainer.explain(vma(kind: .anon, length: 0x1000, name: "", flags: ["hg"], small: 1),
                                     ctx(["enabled": "always"]))
        #expect(tiny.wholeExtents == 0)
        #expect(tiny.blockers.contains { $0.contains("no whole 2 MiB") })
    }
}
