/// The steps of `run mthp` for one memory, each on its own VMA, each
/// with the per-size counters read just before and just after its action:
///   fault     VMAs of several shapes faulted in: which sizes, where
///   fallback  one write fault in a worker whose memory cgroup cannot be
///             charged the largest allowed size
///   partial   half of the first and of the last large folio unmapped
///             (MADV_DONTNEED, munmap)
///   collapse  a 2 MiB range of mTHPs given MADV_COLLAPSE
///   swap      a range of mTHPs pushed out with MADV_PAGEOUT
struct MthpSteps {
    let memory: MthpMemory
    var policies: MthpPolicies
    let lab: Lab
    let kernel: KernelVersion
    /// The policies the run was asked for: what is measured, so making
    /// khugepaged fast never overrides them.
    var asked: Set<String> = []
    /// The tmpfs memory's mount option.
    var tmpfsHuge: TmpfsHuge = .never

    /// The fault step's VMA shapes: label, kB, MADV_HUGEPAGE, misaligned.
    static let shapes: [(String, Int, Bool, Bool)] = [
        ("plain", 1024, false, false), ("advised", 1024, true, false), ("offset", 1024, true, true),
        ("tiny", 48, true, false), ("pmd", 2048, true, false),
    ]

    private var allocCounter: String { memory == .anon ? "anon_fault_alloc" : "shmem_alloc" }

    // MARK: fault

    func fault(_ shape: (String, Int, Bool, Bool)) throws -> MthpStep {
        let (label, kb, advised, misaligned) = shape
        let vma = try MthpVma(memory, lengthKB: kb, advised: advised, misaligned: misaligned, lab: lab, tag: label, tmpfsHuge: tmpfsHuge)
        let before = PerSizeStats.read(sysfs: lab.sysfs)
        try vma.populate()
        let delta = PerSizeStats.read(sysfs: lab.sysfs).delta(since: before)
        let seen = MthpLayout.seen(try vma.classes())
        var step = frame(.fault, label, vma)
        step.seen = Self.keyed(seen)
        var expected = MthpLayout.expected(start: vma.start, length: kb * 1024, fileOffset: vma.fileOffset, allowedKB: step.allowedKB)
        var tmpfsRule: String?
        if memory == .tmpfs {
            (expected, tmpfsRule) = TmpfsRule.fault(huge: tmpfsHuge, kernel: kernel, start: vma.start, length: kb * 1024, advised: advised,
                                                    allowedKB: step.allowedKB)
        }
        step.expected = Self.keyed(expected)
        step.counters = delta.nonZero
        step.checks = expected.keys.filter { $0 > MthpLayout.pageKB }.sorted(by: >).map { size in
            check(delta, size, allocCounter, atLeast: Int64(expected[size]! * MthpLayout.pageKB / size),
                  why: "one \(allocCounter) per \(FolioSizes.kB(size)) folio the fault gave")
        }
        let largest = step.allowedKB.first.map { FolioSizes.kB($0) } ?? "none"
        step.rule = tmpfsRule ?? "faults take the largest allowed size (\(largest)) whose aligned block fits the VMA and is still empty, then the next; the rest are base pages"
        return finish(step)
    }

    // MARK: write (tmpfs)

    /// The write step's sizes: one below the PMD size, one between.
    static let writeSizesKB = [64, 1024]

    /// write(2) of `sizeKB` at offset 0 of an empty file on a tmpfs of the
    /// run's `huge=`, then the file mapped and read: the folio sizes the
    /// write made, which a fault of the VMA would not (see `TmpfsRule`).
    func write(sizeKB: Int) throws -> MthpStep {
        let bytes = sizeKB * 1024
        let object = try SharedObject(backing: .tmpfs, size: 0, tmpfsHuge: tmpfsHuge, tmpfsSize: 8 << 20, directory: "/var/tmp",
                                      guardian: lab.guardian, suffix: "-mthp-write\(sizeKB)")
        let stats = PerSizeStats.read(sysfs: lab.sysfs)
        try object.write([UInt8](repeating: 0x5a, count: bytes), at: 0)
        let delta = PerSizeStats.read(sysfs: lab.sysfs).delta(since: stats)
        let region = try MappedRegion(fd: object.fd, length: bytes, fileOffset: 0, shared: true)
        if case .failure(let e) = Sys.result({ try region.madvise(.populateRead) }) {
            throw THPLabError.system("reading back the \(FolioSizes.kB(sizeKB)) written to \(object.name) failed", e)
        }
        let seen = MthpLayout.seen(try VmaScanner(pid: Sys.pid, withPages: false).scan(start: region.start, end: region.end).counts)
        let (expected, rule) = TmpfsRule.write(huge: tmpfsHuge, kernel: kernel, sizeKB: sizeKB)
        var step = frame(.write, "write \(FolioSizes.kB(sizeKB))", start: region.start, length: bytes, advised: false, fileOffset: 0)
        step.allowedKB = expected.keys.filter { $0 > MthpLayout.pageKB }.sorted(by: >)
        step.excluded = [:]
        step.seen = Self.keyed(seen)
        step.expected = Self.keyed(expected)
        step.counters = delta.nonZero
        step.checks = step.allowedKB.map { size in
            check(delta, size, "shmem_alloc", atLeast: 1, why: "the write allocated a \(FolioSizes.kB(size)) folio")
        }
        step.rule = rule
        return finish(step)
    }

    // MARK: fallback

    /// The memory cgroup's per-CPU charge batch (MEMCG_CHARGE_BATCH, 64
    /// pages): a charge up to it may be served from stock already charged,
    /// so only a size above it is refused exactly by a limit.
    static let chargeBatchKB = 64 * MthpLayout.pageKB

    /// How the fallback step limits its cgroup for the largest allowed size
    /// `largest` and the next `next`: room that cannot hold `largest` even
    /// once a failed charge has drained the per-CPU stock (up to a batch,
    /// counted in the usage and given back), yet holds a batch (or `next`)
    /// and a page table; nil when no limit does both.
    static func fallbackRoomKB(largest: Int, next: Int?) -> Int? {
        let room = largest - chargeBatchKB - 64
        return room >= max(chargeBatchKB, next ?? 0) + 16 ? room : nil
    }

    /// A 2 MiB VMA with MADV_HUGEPAGE in a worker process inside a memory
    /// cgroup thplab makes, limited so that the largest allowed size cannot
    /// be charged; then one write fault. Anonymous memory tries the next
    /// allowed size (mm/memory.c alloc_anon_folio); shmem, after its large
    /// attempt fails, goes straight to a base page (mm/shmem.c
    /// shmem_get_folio_gfp).
    func fallback(executable: String) throws -> MthpStep {
        let length = PageGeometry.pmdSize
        let object = memory == .shmem
            ? try SharedObject(backing: .memfd, size: length, tmpfsHuge: .never, tmpfsSize: nil, directory: "/var/tmp",
                               guardian: lab.guardian, suffix: "-mthp-fallback") : nil
        // The step needs a size above the charge batch to fall back from:
        // where the PMD size is refused even with MADV_HUGEPAGE and the run
        // was not asked for its policy, it is allowed with MADV_HUGEPAGE for
        // this step alone (a standing within_size would let khugepaged take
        // the collapse step's VMA early; shmem advise would make 6.18's
        // MADV_COLLAPSE refuse it).
        let pmd = PageGeometry.pmdKB, pmdKnob = memory.knob(kB: pmd).rawValue
        var me = self
        var restore: String?
        if policies.offered(memory).contains(pmd), !policies.allows(memory, sizeKB: pmd, advised: true), !asked.contains(pmdKnob) {
            restore = lab.knobs()[pmdKnob]?.current
            try lab.apply([.init(name: pmdKnob, value: memory == .anon ? "madvise" : "advise",
                                 why: "the fallback step needs a size above the charge batch to fall back from")])
            me.policies = MthpPolicies(knobs: lab.knobs())
        }
        defer {
            if let restore { try? lab.apply([.init(name: pmdKnob, value: restore, why: "the run's own policy again after the fallback step")]) }
        }
        return try me.fallbackStep(executable: executable, object: object)
    }

    private func fallbackStep(executable: String, object: SharedObject?) throws -> MthpStep {
        let length = PageGeometry.pmdSize
        let cgroup = try MemoryCgroup(guardian: lab.guardian, name: "thplab-\(Sys.pid)-fallback")
        defer { cgroup.remove() }
        try cgroup.disableSwap()
        let worker = try WorkerProcess(executable: executable, object: object?.fd, guardian: lab.guardian)
        defer { worker.stop() }
        // Moved in only once it has started and mapped: what it loads while
        // starting (its binary's and libraries' page cache) would otherwise be
        // charged to the cgroup, and a charge can reclaim that to make room.
        let start = try worker.request(.mapForFault(anonymous: memory == .anon, length: length)).address ?? 0
        try cgroup.add(pid: worker.pid)
        var step = frame(.fallback, "fallback", start: start, length: length, advised: true, fileOffset: memory == .shmem ? 0 : nil)
        let sizes = step.allowedKB
        let next = memory == .anon ? sizes.dropFirst().first : nil
        guard let largest = sizes.first, let room = Self.fallbackRoomKB(largest: largest, next: next) else {
            step.rule = "no limit makes this step show a fallback: the largest allowed size (\(sizes.first.map { FolioSizes.kB($0) } ?? "none")) must exceed the cgroup's charge batch (\(FolioSizes.kB(Self.chargeBatchKB))) and the next size by a margin"
            step.expected = [:]
            return finish(step)
        }
        let stats = PerSizeStats.read(sysfs: lab.sysfs)
        // Whatever it still charged there that reclaim could take back to
        // make room for the large folio goes first.
        cgroup.reclaim()
        let usage = try cgroup.usage()
        try cgroup.limit(bytes: usage + Int64(room * 1024))
        do { try worker.request(.writeFirstPage) } catch let e as THPLabError {
            step.errnoName = e.errno.map(ErrnoName.of) ?? ErrnoName.enomem
        }
        let delta = PerSizeStats.read(sysfs: lab.sysfs).delta(since: stats)
        step.seen = Self.keyed(MthpLayout.seen(try VmaScanner(pid: worker.pid, withPages: false).scan(start: start, end: start + UInt(length)).counts))
        let got = next ?? MthpLayout.pageKB
        step.expected = [String(got): got / MthpLayout.pageKB]
        step.counters = delta.nonZero
        let fellBack = memory == .anon ? "anon_fault_fallback" : "shmem_fallback"
        step.checks = [
            check(delta, largest, fellBack + "_charge", atLeast: 1, why: "the cgroup could not be charged \(FolioSizes.kB(largest))"),
            check(delta, largest, fellBack, atLeast: 1, why: "so the fault fell back from it"),
        ]
        if let next { step.checks.append(check(delta, next, allocCounter, atLeast: 1, why: "and took the next allowed size")) }
        let limit = "a memory cgroup with \(FolioSizes.kB(room)) of room above its \(usage >> 10)k in use (\(cgroup.version.rawValue))"
        step.rule = memory == .anon
            ? "in \(limit) a fault that cannot charge \(FolioSizes.kB(largest)) takes the next allowed size (\(FolioSizes.kB(got)))"
            : "in \(limit) a shmem fault that cannot charge \(FolioSizes.kB(largest)) takes a base page, not the next allowed size"
        return finish(step)
    }

    // MARK: partial

    func partial() throws -> MthpStep {
        let vma = try MthpVma(memory, lengthKB: 1024, advised: true, misaligned: false, lab: lab, tag: "partial")
        try vma.populate()
        let layout = MthpLayout.expected(start: vma.start, length: 1024 * 1024, fileOffset: vma.fileOffset, allowedKB: allowed(advised: true))
        var step = frame(.partial, "partial", vma)
        step.before = Self.keyed(MthpLayout.seen(try vma.classes()))
        let size = layout.keys.max() ?? MthpLayout.pageKB
        guard size > MthpLayout.pageKB, size < PageGeometry.pmdKB else {
            step.expected = Self.keyed(layout)
            step.seen = step.before!
            step.rule = "no mTHP size is allowed below the PMD size here: nothing to unmap part of"
            return finish(step)
        }
        let half = size * 1024 / 2
        let stats = PerSizeStats.read(sysfs: lab.sysfs)
        _ = try? vma.region.madvise(.dontNeed, offset: half, length: half)
        vma.unmapTail(half)
        let delta = PerSizeStats.read(sysfs: lab.sysfs).delta(since: stats)
        var expected = layout
        expected[size]! -= 2 * half / PageGeometry.pageSize
        step.expected = Self.keyed(expected)
        step.seen = Self.keyed(MthpLayout.seen(try vma.classes()))
        step.counters = delta.nonZero
        if memory == .anon {
            step.checks = [
                check(delta, size, "nr_anon_partially_mapped", atLeast: 2, why: "the two folios are now only partly mapped"),
                check(delta, size, "split_deferred", atLeast: 2, why: "each is queued for a deferred split"),
            ]
            step.rule = "unmapping half of a \(FolioSizes.kB(size)) anonymous folio leaves it whole but partly mapped, queued for the deferred split that memory pressure runs (split moves then, not now)"
        } else {
            step.rule = "unmapping half of a \(FolioSizes.kB(size)) shmem folio removes only page-table entries: the folio stays whole in the page cache, with no deferred split"
        }
        return finish(step)
    }

    // MARK: collapse

    /// A 2 MiB range faulted in as mTHPs (its last page a read-only VMA of
    /// its own meanwhile, so no PMD fits), then MADV_COLLAPSE, or
    /// MADV_HUGEPAGE and a bounded wait for khugepaged made fast; traced
    /// where tracefs can be had, so the kernel's own reason is shown.
    func collapse(trigger: Trigger, timeoutSeconds: Int) throws -> MthpStep {
        let vma = try MthpVma(memory, lengthKB: 2048, advised: false, misaligned: false, lab: lab, tag: "collapse")
        let last = PageGeometry.pmdSize - PageGeometry.pageSize
        try vma.populateWithoutPMD()
        var step = frame(.collapse, "collapse", vma)
        let before = MthpLayout.seen(try vma.classes())
        step.before = Self.keyed(before)
        var expectedBefore = MthpLayout.expected(start: vma.start, length: last, fileOffset: vma.fileOffset,
                                                 allowedKB: allowed(advised: false).filter { $0 < PageGeometry.pmdKB })
        expectedBefore[MthpLayout.pageKB, default: 0] += 1
        step.expectedBefore = Self.keyed(expectedBefore)
        let backing: Backing = memory == .anon ? .anon : .memfd
        let regions = RegionSet(regions: [.init(pid: Sys.pid, start: vma.start, traceName: vma.object?.traceName)], extentsEach: 1)
        let reader = try ExtentReader(regions)
        let trace = try TraceSession(lab: lab, objectNames: regions.regions.compactMap(\.traceName), subject: regions.subject,
                                     pfnSources: [.init(pid: Sys.pid, start: vma.start, extents: 1, object: 0)], pids: [Sys.pid]) {
            Sys.touchMmapLock()
        }
        let stats = PerSizeStats.read(sysfs: lab.sysfs)
        let pmd = PageGeometry.pmdKB
        var expectCollapse = true
        var wait: KhugepagedWait?
        let collapse = CollapseContext(backing: backing, lab: lab, boundSeconds: timeoutSeconds, keeping: asked)
        switch trigger {
        case .madvise:
            let call = vma.region.collapse()
            step.errnoName = call.errnoName
            if let note = call.retryNote { lab.note("\(memory.rawValue) collapse step: " + note) }
            let pmdPolicy = lab.knobs().value(.sizeShmemEnabled(kB: pmd)).flatMap(SizeShmemPolicy.init(rawValue:))
            if memory == .shmem, let why = MemfdCollapseRule.refusal(kernel: kernel, pmdPolicy: pmdPolicy, advised: false) {
                expectCollapse = false
                step.expectedErrno = ErrnoName.einval
                step.rule = "MADV_COLLAPSE fails with EINVAL: " + why
            } else {
                step.rule = "MADV_COLLAPSE turns \(Self.from(before)) into one PMD-sized folio, whatever the policies"
            }
        case .khugepaged:
            let now = MthpPolicies(knobs: try collapse.makeKhugepagedFast())
            expectCollapse = now.allows(memory, sizeKB: pmd, advised: true)
            _ = vma.region.adviseHugepage(times: 2)
            wait = try collapse.waitForKhugepaged(reader, tracer: trace.tracer, expectCollapse: expectCollapse).wait
            step.rule = expectCollapse
                ? "khugepaged turns \(Self.from(before)) into one PMD-sized folio once the range has MADV_HUGEPAGE and the PMD size's policy allows it"
                : "khugepaged leaves \(Self.from(before)): the PMD size's policy (\(now.effective(memory, sizeKB: pmd) ?? "never")) does not allow it even with MADV_HUGEPAGE"
        }
        trace.indexPFNs()
        let traced = trace.finish(allEvents: false)
        _ = try? vma.region.madvise(.populateRead)
        step.counters = PerSizeStats.read(sysfs: lab.sysfs).delta(since: stats).nonZero
        let after = try vma.classes()
        step.seen = Self.keyed(MthpLayout.seen(after))
        step.expected = expectCollapse ? [String(pmd): PageGeometry.pagesPerPmd] : step.before!
        let collapsed = after.pmd + after.pteThp == PageGeometry.pagesPerPmd
        step.diagnosis = ExtentDiagnoser(trigger: trigger, backing: backing, trace: traced, blocker: nil, fullScans: wait?.fullScans)
            .diagnose(ExtentRef(object: 0, extent: 0), collapsed: collapsed, errnoName: step.errnoName)
        step.khugepaged = wait
        return finish(step)
    }

    static func from(_ before: [Int: Int]) -> String {
        before.keys.contains { $0 > MthpLayout.pageKB && $0 < PageGeometry.pmdKB }
            ? "a range of mTHPs" : "a range of base pages (no size below the PMD size is allowed without MADV_HUGEPAGE)"
    }

    // MARK: swap

    func swap(_ area: SwapArea) throws -> MthpStep {
        let vma = try MthpVma(memory, lengthKB: 1024, advised: true, misaligned: false, lab: lab, tag: "swap")
        try vma.populate()
        var step = frame(.swap, "swap", vma)
        let before = MthpLayout.seen(try vma.classes())
        step.before = Self.keyed(before)
        let stats = PerSizeStats.read(sysfs: lab.sysfs)
        if case .failure(let e) = Sys.result({ try vma.region.madvise(.pageout) }) { step.errnoName = ErrnoName.of(e) }
        let delta = PerSizeStats.read(sysfs: lab.sysfs).delta(since: stats)
        let after = try vma.classes()
        step.seen = Self.keyed(MthpLayout.seen(after))
        // smaps counts shmem's swapped pages too; pagemap shows them as not present.
        let swapKB = ProcFS.host.smaps(Sys.pid, overlapping: vma.start, vma.region.end).reduce(0) { $0 + $1.kb("Swap") }
        step.swappedPages = max(after.swapped, swapKB / PageGeometry.pageKB)
        step.expected = [:]
        step.counters = delta.nonZero
        let rule = MthpSwapRule(memory: memory, rotational: area.rotational, kernel: kernel)
        step.rule = rule.text
        step.checks = before.keys.filter { $0 > MthpLayout.pageKB }.sorted(by: >).compactMap { size in
            rule.counter.map { check(delta, size, $0, atLeast: Int64(before[size]! * MthpLayout.pageKB / size), why: rule.why) }
        }
        return finish(step)
    }

    // MARK: shared

    private func allowed(advised: Bool) -> [Int] { policies.allowed(memory, advised: advised) }

    /// A step with its VMA and the sizes allowed there.
    private func frame(_ phase: MthpStep.Phase, _ label: String, _ vma: MthpVma) -> MthpStep {
        frame(phase, label, start: vma.start, length: vma.region.length, advised: vma.advised, fileOffset: vma.fileOffset)
    }

    private func frame(_ phase: MthpStep.Phase, _ label: String, start: UInt, length: Int, advised: Bool, fileOffset: UInt?) -> MthpStep {
        var excluded: [String: String] = [:]
        var allowedHere: [Int] = []
        for size in policies.offered(memory).sorted(by: >) {
            if !policies.allows(memory, sizeKB: size, advised: advised) {
                let eff = policies.effective(memory, sizeKB: size) ?? "never"
                excluded[String(size)] = eff == "never" ? "policy never" : "policy \(eff), and the VMA has no MADV_HUGEPAGE"
            } else if let why = MthpLayout.excluded(sizeKB: size, start: start, length: length, fileOffset: fileOffset) {
                excluded[String(size)] = why
            } else {
                allowedHere.append(size)
            }
        }
        return MthpStep(phase: phase, memory: memory, label: label, start: start, lengthKB: length / 1024, advised: advised,
                        fileOffset: fileOffset, allowedKB: allowedHere, excluded: excluded, before: nil, expected: [:], seen: [:],
                        swappedPages: 0, counters: PerSizeStats(), checks: [], rule: "", errnoName: nil, expectedErrno: nil, expectedBefore: nil,
                        diagnosis: nil, khugepaged: nil, ok: false)
    }

    private func check(_ delta: PerSizeStats, _ size: Int, _ counter: String, atLeast: Int64, why: String) -> CounterCheck {
        CounterCheck(sizeKB: size, counter: counter, atLeast: atLeast, seen: delta[size, counter], why: why)
    }

    private func finish(_ s: MthpStep) -> MthpStep {
        var s = s
        let allSwapped = s.phase != .swap || s.swappedPages * PageGeometry.pageKB == s.lengthKB
        s.ok = s.seen == s.expected && (s.expectedBefore == nil || s.before == s.expectedBefore)
            && s.checks.allSatisfy { $0.holds != false } && s.errnoName == s.expectedErrno && allSwapped
        lab.step("\(memory.rawValue) \(s.label): \(FolioSizes.describe(Self.unkeyed(s.seen)))")
        return s
    }

    static func keyed(_ d: [Int: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: d.filter { $0.value != 0 }.map { (String($0.key), $0.value) })
    }

    static func unkeyed(_ d: [String: Int]) -> [Int: Int] {
        var out: [Int: Int] = [:]
        for (k, v) in d { if let n = Int(k) { out[n] = v } }
        return out
    }
}

/// What swapping out a large folio does, by memory and swap device, as
/// measured: to a non-rotational device (zram) the folio goes whole
/// (`swpout`), on 6.12 and 6.18; to a rotational one (a swap file on the
/// 6.18 host's disk) anonymous folios are split first (`swpout_fallback`)
/// and shmem ones split by shmem itself (`split`). Kernels before those
/// are shown, not judged, until measured.
struct MthpSwapRule {
    var counter: String?
    var why: String
    var text: String

    static let wholeSince = KernelVersion(6, 12)
    static let rotationalSince = KernelVersion(6, 18)

    init(memory: MthpMemory, rotational: Bool?, kernel: KernelVersion) {
        counter = nil
        why = ""
        guard let rotational else {
            text = "the swap device's kind is unknown: the counters are shown, not judged"
            return
        }
        let since = rotational ? Self.rotationalSince : Self.wholeSince
        guard kernel >= since else {
            text = "large-folio swap-out to a \(rotational ? "rotational" : "non-rotational") device is measured on \(since.major).\(since.minor) and later only: the counters are shown, not judged"
            return
        }
        if !rotational {
            counter = "swpout"
            why = "each folio goes to swap whole"
            text = "to a non-rotational swap device each large folio is swapped out whole (swpout)"
        } else if memory == .anon {
            counter = "swpout_fallback"
            why = "each folio is split before swap-out"
            text = "to a rotational swap device each anonymous large folio is split first (swpout_fallback): use zram or an SSD for whole-folio swap"
        } else {
            counter = "split"
            why = "shmem splits each folio before writing it out"
            text = "to a rotational swap device shmem splits each large folio before writing it out (split): use zram or an SSD for whole-folio swap"
        }
    }
}
