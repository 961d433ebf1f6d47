/// `run sparse`: only `present` of each extent's 512 pages faulted in;
/// khugepaged collapses an extent only if present >= 512 - max_ptes_none
/// (the shared rule), so a sweep of max_ptes_none shows the threshold.
struct SparseScenario: RegionScenario {
    var name: RegionOptions.Scenario { .sparse }
    var abstract: String { "Extents with only --present of 512 pages: khugepaged collapses one only if present >= 512 - max_ptes_none." }
    var discussion: String { "Sweep it over max_ptes_none to see the rule: thplab sweep sparse --knob max_ptes_none=0,255,256,511 --present 256" }
    var sweepExample: String? { "thplab sweep sparse --knob max_ptes_none=0,255,256,511 --present 256" }
    var defaultPresent: Int { PageGeometry.pagesPerPmd / 2 }

    func sweepChecks(axes: [SweepAxis], points: [SweepPoint]) -> [SweepCheck] {
        SweepCheck.knobRule(.maxPtesNone, "collapsed iff present >= \(PageGeometry.pagesPerPmd) - max_ptes_none", axes: axes, points: points)
    }
}

extension RegionOptions.Scenario {
    public static let sparse = Self(declaring: "sparse")
}
