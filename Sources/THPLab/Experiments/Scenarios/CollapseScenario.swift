/// `run collapse`: every page of every extent present; either trigger; any
/// backing, anonymous memory included. The baseline the others vary: the
/// shared phases and the max_ptes_none rule, nothing of its own.
struct CollapseScenario: RegionScenario {}
