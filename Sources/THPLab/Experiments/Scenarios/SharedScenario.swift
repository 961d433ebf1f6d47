/// `run shared`: every page of each anonymous extent written, then a
/// forked child holds the memory while thplab writes all but `shared`
/// pages of each extent again, so that `shared` pages stay shared
/// copy-on-write. khugepaged collapses an extent only if at most
/// max_ptes_shared of its pages are shared (exceed_shared_pte);
/// MADV_COLLAPSE ignores the limit.
struct SharedScenario: RegionScenario {
    var name: RegionOptions.Scenario { .shared }
    var abstract: String { "Pages shared copy-on-write with a forked child: khugepaged collapses an extent only if shared <= max_ptes_shared." }
    var discussion: String {
        """
        thplab writes every page of its anonymous region, forks a child that holds the memory (it only sleeps, \
        and dies with thplab), then writes all but --shared pages of each extent again, so that --shared pages \
        per extent stay shared. khugepaged gives up on an extent with more than max_ptes_shared shared pages \
        (result exceed_shared_pte in the trace); MADV_COLLAPSE ignores the limit.
        Sweep it: thplab sweep shared --knob max_ptes_shared=0,256,511 --shared 384
        """
    }
    var sweepExample: String? { "thplab sweep shared --knob max_ptes_shared=0,256,511 --shared 384" }
    var defaultShared: Int? { 384 }

    var measuredKnobs: Set<Knob> { [.maxPtesShared] }
    var defaultBacking: Backing { .anon }
    var reportKnobs: [Knob] { [.maxPtesShared] }
    var hasSharedPages: Bool { true }
    var allowsMadviseCollapse: Bool { true }

    func validate(_ o: RegionOptions, topology: NumaTopology) throws {
        guard o.backing == .anon else {
            throw THPLabError.usage("shared needs --backing anon: max_ptes_shared counts anonymous pages shared copy-on-write after fork")
        }
        let n = PageGeometry.pagesPerPmd
        guard (0...n).contains(o.shared ?? defaultShared ?? 0) else {
            throw THPLabError.usage("--shared must be from 0 to \(n) pages of each extent")
        }
    }

    func prepare(_ region: MappedRegion, _ o: RegionOptions, lab: Lab) throws -> AnyObject? {
        let shared = o.shared ?? defaultShared ?? 0
        let holder = try Holder(guardian: lab.guardian)
        // Breaking copy-on-write on the pages past `shared` leaves thplab
        // its own copies of those; the first `shared` stay shared.
        for e in 0..<o.extents {
            region.writePages(offset: e * PageGeometry.pmdSize + shared * PageGeometry.pageSize,
                              length: (PageGeometry.pagesPerPmd - shared) * PageGeometry.pageSize)
        }
        lab.note("a forked child (pid \(holder.pid)) holds the region; \(shared) of each extent's \(PageGeometry.pagesPerPmd) pages stay shared with it")
        return holder
    }

    func expectation(_ o: RegionOptions, _ r: CollapseRules) -> (Int, String) {
        if let c = r.common(o) { return c }
        let shared = o.shared ?? defaultShared ?? 0
        if shared > r.maxPtesShared {
            return (0, "khugepaged gives up on an extent with more than max_ptes_shared = \(r.maxPtesShared) pages shared (exceed_shared_pte); each has \(shared)")
        }
        return (o.extents, "khugepaged collapses an extent with at most max_ptes_shared = \(r.maxPtesShared) pages shared, copying them into the huge page; each has \(shared)")
    }

    func sweepChecks(axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] {
        SweepCheck.knobRule(.maxPtesShared, "collapsed iff shared <= max_ptes_shared", axes: axes, points: points)
    }

    /// The forked child, killed and reaped at the end of the run (and by the
    /// host guard on a signal; it dies with thplab too).
    final class Holder {
        let pid: Int32
        private let guardian: HostGuard

        init(guardian: HostGuard) throws {
            pid = try Sys.result { try Sys.forkHolder() }.mapError { THPLabError.system("fork failed", $0) }.get()
            guardian.addWorker(pid)
            self.guardian = guardian
        }

        deinit {
            Sys.kill(pid, Sys.SIGKILL)
            _ = try? Sys.waitpid(pid, block: true)
            guardian.removeWorker(pid)
        }
    }
}

extension RegionOptions.Scenario {
    public static let shared = Self(declaring: "shared")
}
