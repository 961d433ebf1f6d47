/// `run swap`: `swapped` pages of each extent pushed out with MADV_PAGEOUT,
/// onto the host's swap or a swap file made for the run; khugepaged
/// collapses an extent only if swapped <= max_ptes_swap, swapping the pages
/// back in.
struct SwapScenario: RegionScenario {
    var name: RegionOptions.Scenario { .swap }
    var abstract: String { "Pages pushed out with MADV_PAGEOUT: khugepaged collapses an extent only if swapped <= max_ptes_swap." }
    var discussion: String {
        """
        Needs swap. The host's own is used if it has any. Without any, thplab makes a 256 MiB swap file in --swap-dir \
        for the run (swapon), and swaps it off and removes it afterwards. Where that filesystem cannot hold swap \
        (tmpfs, or a virtme-ng guest's 9p root), it uses zram0 instead: loaded if zram is a module, sized, swapped on, \
        then swapped off, reset and unloaded again. A killed run's swap is undone by the next start.
        Sweep it: thplab sweep swap --knob max_ptes_swap=0,64,128 --swapped 64
        """
    }
    var defaultSwapped: Int { 128 }
    var reportKnobs: [Knob] { [.maxPtesSwap] }

    func validate(_ o: RegionOptions, topology: NumaTopology) throws {
        guard (1...PageGeometry.pagesPerPmd).contains(o.swapped) else {
            throw THPLabError.usage("--swapped must be from 1 to \(PageGeometry.pagesPerPmd) pages of each extent")
        }
        guard o.backing.isShmem || o.backing == .anon else {
            throw THPLabError.usage("swap needs shmem or anonymous memory: regular file pages are written back, not swapped")
        }
    }

    func prepare(_ region: MappedRegion, _ o: RegionOptions, lab: Lab) throws -> AnyObject? {
        let swap = try SwapArea(guardian: lab.guardian, directory: o.own.swapDirectory ?? "/var/tmp")
        if swap.ownedByThplab { lab.note("no swap on this host: thplab made \(swap.what) for the run and removed it afterwards") }
        for e in 0..<o.extents {
            _ = try? region.madvise(.pageout, offset: e * PageGeometry.pmdSize, length: o.swapped * PageGeometry.pageSize)
        }
        let asked = o.extents * o.swapped * PageGeometry.pageKB
        let swappedKB = ProcFS.host.smaps(Sys.pid, overlapping: region.start, region.end).reduce(0) { $0 + $1.kb("Swap") }
        lab.note("MADV_PAGEOUT put \(swappedKB) kB of the region in swap (asked: \(asked) kB)")
        if swappedKB < asked {
            throw THPLabError(.unsupported, "MADV_PAGEOUT pushed only \(swappedKB) of \(asked) kB to swap: the host's swap is full or refuses shmem")
        }
        return swap
    }

    func expectation(_ o: RegionOptions, _ r: CollapseRules) -> (Int, String) {
        if let c = r.common(o) { return c }
        if o.swapped > r.maxPtesSwap {
            return (0, "khugepaged gives up on an extent with more than max_ptes_swap = \(r.maxPtesSwap) pages in swap (exceed_swap_pte); each has \(o.swapped)")
        }
        if PageGeometry.pagesPerPmd - o.swapped < r.presentNeeded {
            return (0, "the \(o.swapped) swapped pages count as absent too: fewer than \(PageGeometry.pagesPerPmd) - max_ptes_none = \(r.presentNeeded) present")
        }
        return (o.extents, "khugepaged collapses an extent with at most max_ptes_swap = \(r.maxPtesSwap) pages in swap, swapping them back in; each has \(o.swapped)")
    }

    func sweepChecks(axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] {
        SweepCheck.knobRule(.maxPtesSwap, "collapsed iff swapped <= max_ptes_swap", axes: axes, points: points)
    }
}

extension RegionOptions.Scenario {
    public static let swap = Self(declaring: "swap")
}
