/// `run bloat`: `present` (--touched) of each extent's 512 pages written
/// with data, the rest never touched; then the collapse, which fills the
/// untouched pages with zeros and makes them resident. thplab runs it
/// inside a memory cgroup of its own (v1 or v2, whichever offers memory),
/// joined before the region is made, so that afterwards it can press that
/// cgroup alone and show what the underused-THP shrinker gives back.
struct BloatScenario: RegionScenario {
    var name: RegionOptions.Scenario { .bloat }
    var abstract: String { "What a huge page costs: --touched of 512 pages written, the collapse fills the rest with zeros; then what the underused-THP shrinker gives back." }
    var discussion: String {
        """
        thplab makes a memory cgroup of its own (v1 or v2, whichever has the memory controller), joins it, and \
        makes the region there: anonymous memory by default, or shmem (--backing memfd). It writes --touched pages \
        of each 2 MiB extent and lets khugepaged (or MADV_COLLAPSE) collapse them, and reports per extent the \
        memory before and after (pagemap, smaps Rss and Anonymous) and the zeros the collapse made resident.
        Then it presses that cgroup alone (v1: the limit lowered to half its usage and put back; v2: \
        memory.reclaim of half), never the whole machine, and shows what the underused-THP shrinker (6.12+) did: \
        the THPs split, the memory given back, the subpages now on the zero page, thp_underused_split_page, \
        thp_split_page and split_deferred. The kernel's rule: a THP is split only if more than max_ptes_none \
        of its subpages are zeros; shrink_underused=0 and max_ptes_none=511 (the default) turn it off. So \
        khugepaged's own THPs, which have at most max_ptes_none zeros, are never taken back: use \
        --trigger madvise (MADV_COLLAPSE ignores max_ptes_none) to see the shrinker at work.
        The cgroup is removed and the knobs restored on every exit, after SIGKILL by the next start.
        Examples: thplab run bloat --touched 64
                  thplab knobs set khugepaged/max_ptes_none=256 -- thplab run bloat --touched 64 --trigger madvise
                  thplab sweep bloat --knob max_ptes_none=0,64,256,511 --touched 64,256,448
        """
    }
    var sweepExample: String? { "thplab sweep bloat --knob max_ptes_none=0,64,256,511 --touched 64,256,448" }
    var defaultPresent: Int { 64 }
    var defaultBacking: Backing { .anon }
    var reportKnobs: [Knob] { [.shrinkUnderused] }
    var countsTouchedPages: Bool { true }
    var allowsMadviseCollapse: Bool { true }
    var measuredKnobs: Set<Knob> { [.maxPtesNone, .shrinkUnderused, .useZeroPage] }

    func validate(_ o: RegionOptions, topology: NumaTopology) throws {
        guard o.backing == .anon || o.backing.isShmem else {
            throw THPLabError.usage("bloat needs --backing anon or shmem (memfd, tmpfs, shm): a regular file's pages are page cache, not memory the collapse adds")
        }
        guard o.processes == 1 else { throw THPLabError.usage("bloat runs in one process: --processes 1") }
        try Self.requireMemoryCgroup(mountsText: MountTable.hostText ?? "")
    }

    /// Exit 3 before anything is made when no memory controller is mounted.
    static func requireMemoryCgroup(mountsText: String, controllers: (String) -> String? = FileIO.readIfPresent) throws {
        guard MemoryCgroup.locate(mountsText: mountsText, controllers: controllers) != nil else {
            throw THPLabError.unsupported("bloat presses a memory cgroup of its own, and this host mounts no memory controller (no cgroup v1 hierarchy with memory, no cgroup2 offering it): mount one, e.g. `mount -t cgroup2 none /sys/fs/cgroup`")
        }
    }

    /// The max_ptes_none rule, and nothing for an untouched extent: it has
    /// no page table (measured on 6.18: MADV_COLLAPSE fails with EINVAL).
    func expectation(_ o: RegionOptions, _ r: CollapseRules) -> (Int, String) {
        if o.present == 0, ExpectationModel.collapseBlocker(r.context) == nil {
            return (0, "no page of an extent was touched: it has no page table, so there is nothing to collapse (khugepaged finds no PMD; MADV_COLLAPSE fails with EINVAL)")
        }
        return r.presentRule(o)
    }

    func confine(_ o: RegionOptions, lab: Lab) throws -> MemoryCgroup? {
        let cgroup = try MemoryCgroup(guardian: lab.guardian, name: "thplab-\(Sys.pid)-bloat")
        do {
            try cgroup.disableSwap()
            try cgroup.join()
        } catch {
            cgroup.remove()
            throw error
        }
        lab.step("joined memory cgroup \(cgroup.path) (\(cgroup.version.rawValue)); the region is charged to it")
        return cgroup
    }

    /// Writes data (not zeros: the shrinker tells zero-filled subpages by
    /// content, and populate only faults them in) to the touched pages, and
    /// records the memory before the collapse.
    func prepare(_ region: MappedRegion, _ o: RegionOptions, lab: Lab) throws -> AnyObject? {
        for e in 0..<o.extents where o.present > 0 {
            region.writePages(offset: e * PageGeometry.pmdSize, length: o.present * PageGeometry.pageSize)
        }
        return Before(residentPages: Self.resident(region, extents: o.extents).pages, rssKB: Self.smapsKB(region).rss)
    }

    final class Before {
        let residentPages: [Int]
        let rssKB: Int
        init(residentPages: [Int], rssKB: Int) { self.residentPages = residentPages; self.rssKB = rssKB }
    }

    /// Per extent: the present pages that hold memory of their own, and
    /// those mapping the shared zero page (one pagemap read for both).
    static func resident(_ region: MappedRegion, extents: Int) -> (pages: [Int], zeroPage: [Int]) {
        let words = (try? Pagemap.entries(pid: Sys.pid, start: region.start, end: region.start + UInt(extents * PageGeometry.pmdSize))) ?? []
        let zero = Pagemap.zeroPagesPerExtent(pid: Sys.pid, start: region.start, extents: extents) ?? []
        let pages = (0..<extents).map { e in
            let slice = words.dropFirst(e * PageGeometry.pagesPerPmd).prefix(PageGeometry.pagesPerPmd)
            return slice.filter { $0 & Pagemap.present != 0 }.count - (e < zero.count ? zero[e] : 0)
        }
        return (pages, zero)
    }

    static func smapsKB(_ region: MappedRegion) -> (rss: Int, anonymous: Int) {
        let vmas = ProcFS.host.smaps(Sys.pid, overlapping: region.start, region.end)
        return (vmas.reduce(0) { $0 + $1.kb("Rss") }, vmas.reduce(0) { $0 + $1.kb("Anonymous") })
    }

    func aftermath(_ a: inout Aftermath) throws {
        guard let before = a.prepared as? Before, let cgroup = a.cgroup else { return }
        let o = a.options, region = a.own.region, n = PageGeometry.pagesPerPmd
        let afterCollapse = Self.resident(region, extents: o.extents).pages
        let smaps = Self.smapsKB(region)
        for e in a.outcomes.indices {
            a.outcomes[e].bloat = ExtentBloat(touched: o.present, residentBefore: before.residentPages[e], residentAfterCollapse: afterCollapse[e],
                                              zeroFilled: afterCollapse[e] - before.residentPages[e])
        }
        let kb = PageGeometry.pageKB
        let beforeKB = before.residentPages.reduce(0, +) * kb, afterKB = afterCollapse.reduce(0, +) * kb
        var summary = BloatSummary(touched: o.present, residentBeforeKB: beforeKB, residentAfterCollapseKB: afterKB,
                                   rssBeforeKB: before.rssKB, rssAfterCollapseKB: smaps.rss, anonymousAfterCollapseKB: smaps.anonymous,
                                   addedKB: afterKB - beforeKB, cgroup: cgroup.version.rawValue)
        let collapsed = a.outcomes.filter(\.collapsed).count
        a.lab.note("the collapse made \(FolioSizes.kB(summary.addedKB)) of zeros resident: \(collapsed) extent(s) x \(n - o.present) untouched pages (of \(n))")
        guard o.backing == .anon else {
            summary.noShrinker = "the underused-THP shrinker takes anonymous THPs only: shmem THPs stay whole under pressure, so thplab does not press the cgroup"
            a.bloat = summary
            return
        }
        a.bloat = try press(&a, cgroup: cgroup, summary: summary)
    }

    /// Presses the run's own cgroup and sees which THPs the underused-THP
    /// shrinker split, each extent against the shrinker's rule.
    private func press(_ a: inout Aftermath, cgroup: MemoryCgroup, summary: BloatSummary) throws -> BloatSummary {
        var summary = summary
        let o = a.options, region = a.own.region, n = PageGeometry.pagesPerPmd, kb = PageGeometry.pageKB
        let shrinkUnderused = a.knobs.value(.shrinkUnderused)
        if shrinkUnderused != nil && o.trigger == .khugepaged && a.rules.maxPtesNone < n - 1 { a.lab.note(ShrinkerRule.khugepagedNote) }
        a.lab.step("memory pressure on the run's own cgroup")
        let counters = SystemCounters.read(sysfs: a.lab.sysfs)
        let pressure = try cgroup.pressure()
        let delta = SystemCounters.read(sysfs: a.lab.sysfs).delta(since: counters)
        let classes = try a.reader.finalClasses()
        let (afterPressure, zero) = Self.resident(region, extents: o.extents)
        var split = 0, expected = 0, pressed = ClassCounts()
        for e in a.outcomes.indices {
            let wasHuge = a.outcomes[e].pagesAfter.pmd == n
            let now = classes[a.outcomes[e].start] ?? ClassCounts()
            let isSplit = wasHuge && now.pmd < n
            let (expect, why) = wasHuge ? ShrinkerRule.split(zeroFilled: n - o.present, maxPtesNone: a.rules.maxPtesNone, shrinkUnderused: shrinkUnderused)
                : (false, "no THP to split: the extent did not collapse")
            a.outcomes[e].bloat?.residentAfterPressure = afterPressure[e]
            a.outcomes[e].bloat?.zeroPageMapped = e < zero.count ? zero[e] : nil
            a.outcomes[e].bloat?.split = isSplit
            a.outcomes[e].bloat?.expectedSplit = expect
            a.outcomes[e].bloat?.rule = why
            split += isSplit ? 1 : 0
            expected += expect ? 1 : 0
            pressed += now
        }
        var counted: [String: Int64] = [:]
        for name in ["thp_underused_split_page", "thp_split_page", "thp_deferred_split_page"] {
            if let v = delta.vmstat[name] { counted[name] = v }
        }
        var deferred: [String: Int64] = [:]
        for (size, c) in delta.perSize?.sizes ?? [:] { if let v = c["split_deferred"] { deferred[String(size)] = v } }
        let residentAfterKB = afterPressure.reduce(0, +) * kb
        summary.shrinker = ShrinkerOutcome(pressure: pressure, split: split, expectedSplit: expected, residentAfterKB: residentAfterKB,
                                           rssAfterKB: Self.smapsKB(region).rss, returnedKB: summary.residentAfterCollapseKB - residentAfterKB,
                                           zeroPageMapped: zero.reduce(0, +),
                                           coverageAfterPercent: pressed.coveragePercent,
                                           counters: counted, splitDeferred: deferred)
        if shrinkUnderused == nil { a.lab.note("finding: this kernel has no underused-THP shrinker (6.12+): the pressure gave back none of the zeros the collapse made resident") }
        if split != expected {
            let rule = a.outcomes.first(where: { $0.collapsed })?.bloat?.rule ?? "no extent collapsed"
            a.differences.append("the shrinker split \(split) THP(s) under the cgroup's pressure, expected \(expected): \(rule)")
        }
        return summary
    }

    /// The max_ptes_none rule at every point, and under pressure the
    /// shrinker's rule.
    func sweepChecks(axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] {
        var checks = SweepCheck.knobRule(.maxPtesNone, "collapsed as the model says (khugepaged: iff touched >= \(PageGeometry.pagesPerPmd) - max_ptes_none; MADV_COLLAPSE: always)",
                                         axes: axes, points: points)
        if points.contains(where: { $0.bloat != nil }) {
            let bad = points.filter { ($0.bloat?.split ?? 0) != ($0.bloat?.expectedSplit ?? 0) }
            checks.append(SweepCheck(name: "shrinker rule", held: bad.isEmpty,
                                     detail: bad.isEmpty ? "under pressure a THP split iff its zero-filled subpages exceed max_ptes_none < 511 with shrink_underused=1, at all \(points.count) point(s)"
                                        : "the shrinker split other THPs than the rule says at \(bad.count) point(s)"))
        }
        return checks
    }
}

extension RegionOptions.Scenario {
    public static let bloat = Self(declaring: "bloat")
}
