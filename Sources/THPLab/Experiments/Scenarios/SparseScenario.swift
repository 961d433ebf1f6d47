/// `run sparse`: only `present` of each extent's 512 pages faulted in;
/// khugepaged collapses an extent only if present >= 512 - max_ptes_none
/// (the shared rule), so a sweep of max_ptes_none shows the threshold.
struct SparseScenario: RegionScenario {
    var defaultPresent: Int { PageGeometry.pagesPerPmd / 2 }
}
