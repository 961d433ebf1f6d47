import Foundation
import SystemPackage
import Testing
@testable import THPLab

extension KernelSuite {
/// `snapshot`, `diff`, `watch` and `collapse` on this test process, which
/// builds each page class on purpose and keeps still while thplab looks.
@Suite struct CoverageKernelTests {
    static let huge = 2 << 20

    /// Mappings of this process, one per class, each one 2 MiB extent.
    final class Classes {
        var pmdShmem: MappedRegion!
        var pteThp: MappedRegion!
        var small: MappedRegion!
        var anonThp: UInt = 0
        var untouched: UInt = 0
        /// Anonymous small pages under MADV_NOHUGEPAGE: MADV_COLLAPSE refuses.
        var noHuge: UInt = 0
        /// The 6 MiB reservations the two aligned anonymous extents were cut
        /// from, unmapped whole at the end.
        var reservations: [UInt] = []
        let fds: [FileDescriptor]

        init() throws {
            let huge = CoverageKernelTests.huge
            let a = try Sys.memfdCreate(name: "thplab-test-huge")
            let b = try Sys.memfdCreate(name: "thplab-test-small")
            fds = [a, b]
            for fd in fds { _ = try? Sys.ftruncate(fd, size: Int64(huge)) }
            pmdShmem = try MappedRegion(fd: a, length: huge, fileOffset: 0, shared: true)
            _ = try? pmdShmem.madvise(.populateWrite)
            try Sys.result({ try pmdShmem.madvise(.collapse) }).mapError { THPLabError.system("MADV_COLLAPSE in the test", $0) }.get()
            // The same huge folio through a misaligned mapping: PTE-mapped.
            pteThp = try MappedRegion(fd: a, length: huge, fileOffset: 0, shared: true, misalignBy: 4096)
            _ = try? pteThp.madvise(.populateRead)
            small = try MappedRegion(fd: b, length: huge, fileOffset: 0, shared: true)
            _ = try? small.madvise(.populateWrite)
            anonThp = try Sys.mmap(length: 3 * huge, writable: true, shared: false, fixed: false, fd: nil, offset: 0)
            reservations.append(anonThp)
            anonThp = (anonThp + UInt(huge) - 1) & ~UInt(huge - 1)
            _ = try? Sys.madvise(address: anonThp, length: huge, .hugepage)
            _ = try? Sys.madvise(address: anonThp, length: huge, .populateWrite)
            untouched = try Sys.mmap(length: huge, writable: true, shared: false, fixed: false, fd: nil, offset: 0)
            noHuge = try Sys.mmap(length: 3 * huge, writable: true, shared: false, fixed: false, fd: nil, offset: 0)
            reservations.append(noHuge)
            noHuge = (noHuge + UInt(huge) - 1) & ~UInt(huge - 1)
            _ = try? Sys.madvise(address: noHuge, length: huge, .noHugepage)
            _ = try? Sys.madvise(address: noHuge, length: huge, .populateWrite)
        }

        deinit {
            Sys.munmap(address: untouched, length: CoverageKernelTests.huge)
            for base in reservations { Sys.munmap(address: base, length: 3 * CoverageKernelTests.huge) }
            for fd in fds { try? fd.close() }
        }
    }

    func snapshot(_ extra: [String] = []) throws -> [String: Any] {
        let r = try Thplab.run(["snapshot", "--pid", "\(getpid())", "--json", "-"] + extra, timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        return try r.json()
    }

    /// The VMA of this process that contains `address`.
    func vma(_ json: [String: Any], containing address: UInt) -> [String: Any]? {
        let vmas = ((json["processes"] as? [[String: Any]])?.first?["vmas"] as? [[String: Any]]) ?? []
        return vmas.first { (($0["start"] as? UInt) ?? 0) <= address && address < (($0["end"] as? UInt) ?? 0) }
    }

    /// The page counts of a VMA or extent (`pages` also holds the mTHP sizes).
    func pages(_ object: [String: Any]?) -> [String: Int] {
        (object?["pages"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
    }

    @Test func everyClassIsClassifiedExactly() throws {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        let c = try Classes()
        let json = try snapshot(["--pages"])
        let p = (json["processes"] as? [[String: Any]])?.first
        #expect(p?["method"] as? String == "pagemap_scan")
        #expect(p?["pfns_visible"] as? Bool == true)

        let pmd = vma(json, containing: c.pmdShmem.start)
        #expect(pages(pmd)["pmd"] == 512, "\(pages(pmd))")
        #expect(pages(pmd)["anon"] == 0)
        let pte = vma(json, containing: c.pteThp.start)
        #expect(pages(pte)["pte_thp"] == 512, "\(pages(pte))")
        let extents = pte?["extents"] as? [[String: Any]] ?? []
        #expect(extents.count == 2)  // misaligned: 511 pages in one extent, 1 in the next
        #expect((extents.first?["page_classes"] as? String) == String(repeating: "T", count: 511))
        let small = vma(json, containing: c.small.start)
        #expect(pages(small)["small"] == 512, "\(pages(small))")
        let anon = vma(json, containing: c.anonThp)
        let anonExtent = (anon?["extents"] as? [[String: Any]])?.first { ($0["start"] as? UInt) == c.anonThp }
        #expect(pages(anonExtent)["pmd"] == 512, "anonymous THP: \(anonExtent ?? [:])")
        #expect(pages(anonExtent)["anon"] == 512)
        let none = vma(json, containing: c.untouched)
        // The untouched range may share a VMA with a neighbouring anonymous
        // mapping (the kernel merges them): its pages are none, and no
        // listed extent lies inside it.
        #expect((pages(none)["none"] ?? 0) >= 512)
        let inside = (none?["extents"] as? [[String: Any]] ?? []).filter {
            let s = $0["start"] as? UInt ?? 0
            return s >= c.untouched && s < c.untouched + UInt(Self.huge)
        }
        #expect(inside.isEmpty, "extents listed inside the untouched range: \(inside)")
        withExtendedLifetime(c) {}
    }

    @Test func pageTablesAndSmapsAgree() throws {
        try #require(KernelGate.available)
        let c = try Classes()
        let json = try snapshot()
        let vmas = ((json["processes"] as? [[String: Any]])?.first?["vmas"] as? [[String: Any]]) ?? []
        #expect(vmas.count > 10)
        let ours = [c.pmdShmem.start, c.pteThp.start, c.small.start, c.anonThp].compactMap { vma(json, containing: $0) }
        #expect(ours.count == 4)
        for v in ours {
            let check = v["crosscheck"] as? [String: Any]
            #expect(check?["agree"] as? Bool == true, "\(v["backing"] ?? "") \(check ?? [:])")
        }
        let pmdKB = vmas.reduce(0) { $0 + ((($1["crosscheck"] as? [String: Any])?["page_tables_pmd_kb"] as? Int) ?? 0) }
        #expect(pmdKB >= 4096)
        withExtendedLifetime(c) {}
    }

    @Test func collapseAnotherProcessTurnsSmallPagesPmdMapped() throws {
        try #require(KernelGate.available)
        let c = try Classes()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-kt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pid = "\(getpid())"
        #expect(try Thplab.run(["snapshot", "--pid", pid, "--json", dir + "/before.json"], timeout: 60).status == 0)
        let r = try Thplab.run(["collapse", "--pid", pid, "--vma", String(c.small.start, radix: 16), "--json", "-"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        #expect(json["succeeded"] as? Int == 1)
        #expect((json["diff"] as? [String: Any])?["became_huge_kb"] as? Int == 2048)
        #expect(try Thplab.run(["snapshot", "--pid", pid, "--json", dir + "/after.json"], timeout: 60).status == 0)
        let d = try Thplab.run(["diff", dir + "/before.json", dir + "/after.json", "--json", "-"], timeout: 60)
        #expect(d.status == 0)
        let p = (try d.json()["processes"] as? [[String: Any]])?.first
        #expect(p?["became_huge_kb"] as? Int == 2048)
        let changed = (p?["vmas"] as? [[String: Any]])?.filter { $0["change"] as? String == "became huge" }
        #expect(changed?.count == 1)
        #expect(changed?.first?["start"] as? UInt == c.small.start)
        // MADV_NOHUGEPAGE: planned out (the kernel would say EINVAL), not
        // sent, and thplab exits 1 since nothing could collapse.
        let refused = try Thplab.run(["collapse", "--pid", pid, "--json", "-", "--range",
                                      "\(String(c.noHuge, radix: 16))-\(String(c.noHuge + UInt(Self.huge), radix: 16))"], timeout: 60)
        #expect(refused.status == 1, "\(refused.stderr)")
        let json2 = try refused.json()
        #expect((json2["attempts"] as? [Any])?.isEmpty == true)
        let skipped = json2["skipped"] as? [[String: Any]]
        #expect(skipped?.count == 1)
        #expect(skipped?.first?["reason"] as? String == "madv_nohugepage")
        #expect(skipped?.first?["extents"] as? Int == 1)
        withExtendedLifetime(c) {}
    }

    @Test func watchFollowsAndStopsOnCtrlC() throws {
        try #require(KernelGate.available)
        let c = try Classes()
        let r = try Thplab.run(["watch", "--pid", "\(getpid())", "--interval", "100", "--duration", "1", "--full-every", "5", "--json", "-"], timeout: 30)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        let samples = json["samples"] as? [[String: Any]] ?? []
        #expect(samples.count >= 5)
        #expect(samples.allSatisfy { ($0["pmd_kb"] as? Int ?? 0) >= 4096 })
        #expect(samples.contains { $0["classes_kb"] != nil })
        #expect(json["ended"] as? String == "duration")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-watch-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (p, o, e) = try Thplab.start(["watch", "--pid", "\(getpid())", "--interval", "100", "--json", file])
        usleep(600_000)
        kill(p.processIdentifier, SIGINT)
        let w = Thplab.finish(p, o, e, timeout: 10)
        #expect(!w.timedOut)
        #expect(w.status == 0)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
        #expect(saved?["ended"] as? String == "interrupted")
        #expect(((saved?["samples"] as? [Any])?.count ?? 0) >= 2)
        withExtendedLifetime(c) {}
    }

    /// `watch` counts small pages from the silence of a walk that reports
    /// everything else; on a still process it must count what the walk
    /// that reports every present page counts, range by range: PMD-mapped,
    /// PTE-mapped THP, small, a range with holes, and [vvar] (VM_PFNMAP,
    /// which the walk skips); then a sleeping process, whole.
    @Test func watchCountsWhatThePositiveWalkCounts() throws {
        try #require(KernelGate.available)
        let c = try Classes()
        let huge = Self.huge
        let holesFd = try Sys.memfdCreate(name: "thplab-test-holes")
        defer { try? holesFd.close() }
        try Sys.ftruncate(holesFd, size: Int64(huge))
        let holes = try MappedRegion(fd: holesFd, length: huge, fileOffset: 0, shared: true)
        for page in stride(from: 0, to: huge, by: 2 * Sys.pageSize) { holes.writePages(offset: page, length: Sys.pageSize) }
        let pagemap = try FileDescriptor.open("/proc/self/pagemap", .readOnly)
        defer { try? pagemap.close() }
        func both(_ start: UInt, _ end: UInt) throws -> (Residency, Residency) {
            (try PagemapScan.residency(fd: pagemap, start: UInt64(start), end: UInt64(end)),
             try PagemapScan.residency(fd: pagemap, start: UInt64(start), end: UInt64(end), positive: true))
        }
        let kb = huge / 1024
        // What each range was made to hold (see Classes): resident kB, PMD-mapped kB.
        let made: [(String, MappedRegion, Int, Int)] = [("pmd-mapped shmem", c.pmdShmem, kb, kb), ("pte-mapped THP", c.pteThp, kb, 0),
                                                        ("small shmem", c.small, kb, 0), ("every other page", holes, kb / 2, 0)]
        for (name, region, resident, pmd) in made {
            let (silent, positive) = try both(region.start, region.start + UInt(region.length))
            #expect(silent == positive, "\(name)")
            #expect(positive == Residency(residentKB: resident, pmdKB: pmd), "\(name)")
        }
        let (anonSilent, anonPositive) = try both(c.anonThp, c.anonThp + UInt(huge))
        #expect(anonSilent == anonPositive && anonPositive.residentKB == kb)
        let maps = try #require(ProcFS.host.read(getpid(), "maps"))
        let vvar = try #require(maps.split(separator: "\n").compactMap { SmapsParser.parseHeader($0) }.first { $0.name == "[vvar]" })
        let (vvarSilent, vvarPositive) = try both(vvar.start, vvar.end)
        #expect(vvarSilent == vvarPositive && vvarPositive == Residency(), "[vvar] is not walked, so nothing of it is resident")

        // A still process of another program: Python with 64 MiB of its own,
        // 8 MiB of THPs, then under MADV_NOHUGEPAGE a VMA of 4 MiB of small
        // pages (MADV_DONTFORK sets it apart), silent to the walk that skips
        // them, and every other page of 4 MiB.
        let script = """
            import mmap, time
            M = 1 << 20
            m = mmap.mmap(-1, 64 * M, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            m.madvise(mmap.MADV_HUGEPAGE, 0, 16 * M)
            m.madvise(mmap.MADV_NOHUGEPAGE, 16 * M, 48 * M)
            m.madvise(mmap.MADV_DONTFORK, 16 * M, 4 * M)
            m[0:8 * M] = b"x" * (8 * M)
            m[16 * M:20 * M] = b"y" * (4 * M)
            for o in range(24 * M, 28 * M, 8192):
                m[o] = 1
            time.sleep(60)
            """
        let sleeper = try Sys.spawnCommand(["python3", "-c", script])
        defer { kill(sleeper, SIGKILL); _ = try? Sys.waitpid(sleeper, block: true) }
        // Asleep: past its start and the writes, its pages stay as they are.
        let asleep = Loopback.waitFor(20, every: 0.05) { () -> Bool? in
            let stat = ProcFS.host.read(sleeper, "stat") ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            return state == "S" && (ProcFS.host.read(sleeper, "wchan") ?? "").contains("nanosleep") ? true : nil
        }
        try #require(asleep == true, "python3 never went to sleep")
        let watcher = try Watcher(pid: sleeper, intervalMs: 100, fullEvery: 0)
        let sample = try #require(watcher.quickSample(t: 0))
        let childMaps = try #require(ProcFS.host.read(sleeper, "maps"))
        let childPagemap = try FileDescriptor.open("/proc/\(sleeper)/pagemap", .readOnly)
        defer { try? childPagemap.close() }
        var positive = Residency(), silent = 0
        for v in MapsList.parse(childMaps) {
            let p = try PagemapScan.residency(fd: childPagemap, start: v.start, end: v.end, positive: true)
            positive += p
            if v.end - v.start >= UInt64(huge) && p.residentKB == Int(v.end - v.start) / 1024 && p.pmdKB == 0 { silent += 1 }
        }
        #expect(silent >= 1, "a VMA of small pages only, which the watch must probe")
        #expect(positive.pmdKB >= 8 * 1024 && positive.residentKB >= 8 * 1024 + 4 * 1024 + 2 * 1024, "\(positive)")
        #expect(sample.residentKB == positive.residentKB && sample.pmdKB == positive.pmdKB && sample.swappedKB == positive.swappedKB,
                "watch \(sample), every present page \(positive)")
        #expect(positive.residentKB > 0)
        withExtendedLifetime(c) {}
    }

    @Test func withoutCapSysAdminSnapshotSaysPfnsAreHidden() throws {
        try #require(KernelGate.available)
        let c = try Classes()
        let r = try Thplab.run(["snapshot", "--pid", "\(getpid())", "--json", "-"], timeout: 60, withoutSysAdmin: true)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        let p = (json["processes"] as? [[String: Any]])?.first
        #expect(p?["pfns_visible"] as? Bool == false)
        #expect((p?["notes"] as? [String])?.contains { $0.contains("CAP_SYS_ADMIN") } == true)
        // PMD mappings still come from PAGEMAP_SCAN; the PTE-mapped THP
        // cannot be told from small pages.
        #expect(pages(vma(json, containing: c.pmdShmem.start))["pmd"] == 512)
        #expect(pages(vma(json, containing: c.pteThp.start))["small"] == 512)
        withExtendedLifetime(c) {}
    }

    @Test func explainSaysWhy() throws {
        try #require(KernelGate.available)
        let c = try Classes()
        let r = try Thplab.run(["explain", "--pid", "\(getpid())", "--json", "-"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        let vmas = try r.json()["vmas"] as? [[String: Any]] ?? []
        func vma(_ a: UInt) -> [String: Any]? { vmas.first { ($0["start"] as? UInt ?? 0) <= a && a < ($0["end"] as? UInt ?? 0) } }
        let noHuge = vma(c.noHuge)
        #expect((noHuge?["flags"] as? [String])?.contains("nh") == true)
        #expect((noHuge?["blockers"] as? [String])?.contains { $0.contains("MADV_NOHUGEPAGE") } == true)
        let misaligned = vma(c.pteThp.start)
        #expect(misaligned?["aligned"] as? Bool == false)
        #expect((misaligned?["classes_kb"] as? [String: Int])?["pte_thp"] == 2048)
        #expect((vma(c.pmdShmem.start)?["verdict"] as? String)?.hasPrefix("fully PMD-mapped") == true)
        let one = try Thplab.run(["explain", "--pid", "\(getpid())", "--addr", String(c.small.start, radix: 16)], timeout: 60)
        #expect(one.status == 0)
        #expect(one.stdout.contains("thplab-test-small"))
        let none = try Thplab.run(["explain", "--pid", "\(getpid())", "--addr", "1000"], timeout: 60)
        #expect(none.status == 2)
        withExtendedLifetime(c) {}
    }

    @Test func badTargetsAreRefusedClearly() throws {
        try #require(KernelGate.available)
        let gone = try Thplab.run(["snapshot", "--pid", "999999999"], timeout: 30)
        #expect(gone.status == 2)
        #expect(gone.stderr.contains("no process"))
        // kthreadd has no mm: skipped with a note.
        let kthread = try Thplab.run(["snapshot", "--pid", "2"], timeout: 30)
        #expect(kthread.status == 0)
        #expect(kthread.stdout.contains("kernel thread"))
        let denied = try Thplab.run(["snapshot", "--pid", "1"], timeout: 30, asUser: 65534)
        #expect(denied.status == 3, "\(denied.stderr)")
        #expect(denied.stderr.contains("root"))
        let unaligned = try Thplab.run(["collapse", "--pid", "\(getpid())", "--range", "1000-3000"], timeout: 30)
        #expect(unaligned.status == 2)
        let outside = try Thplab.run(["collapse", "--pid", "\(getpid())", "--range", "200000-400000"], timeout: 30)
        #expect(outside.status == 2)
    }
}
}
