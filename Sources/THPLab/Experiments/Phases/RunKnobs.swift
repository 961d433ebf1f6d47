/// The knobs one experiment changes, through the host guard, with the
/// reason for each kept for the report.
final class RunKnobs {
    private let guardian: HostGuard
    private(set) var changes: [KnobChange] = []

    init(guardian: HostGuard) { self.guardian = guardian }

    /// Applies a plan; each change is journaled before it is made.
    func apply(_ plan: [KnobPlan.Change], progress: (ExperimentProgress) -> Void) throws {
        for c in plan {
            let r = try guardian.setKnob(c.name, c.value)
            changes.append(KnobChange(name: c.name, from: r.old, to: r.new, why: c.why))
            progress(.step("set \(c.name): \(r.old) -> \(r.new)"))
        }
    }
}
