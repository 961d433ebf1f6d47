/// The other process a scenario's object is mapped in
/// (`RegionScenario.holders`): one worker mapping thplab's own object once
/// per role, every page faulted in like thplab's, each mapping judged as
/// one in a process other than the one that collapsed.
extension MappingHolders {
    /// None when the scenario declares no roles or its memory is anonymous.
    static func holding(_ roles: [MappingRole], own: OwnRegion, _ o: RegionOptions, lab: Lab,
                        executable: String) throws -> MappingHolders? {
        guard !roles.isEmpty, let object = own.object else { return nil }
        // Before 6.6 MADV_COLLAPSE leaves the other processes' PTE tables
        // for khugepaged to retract later: it sleeps through the run, as in retract.
        if o.trigger == .madvise { try lab.apply(KnobPlan.forMadviseCollapse(current: lab.knobs(), kernel: lab.kernel)) }
        let holders = try MappingHolders(object: object, size: o.extents * PageGeometry.pmdSize, local: nil, workers: 1,
                                         specs: roles.map { MappingSpec(role: $0) }, lab: lab, executable: executable)
        do {
            lab.step("mapping the object in pid \(holders.pids[0]) too: " + roles.map(\.rawValue).joined(separator: ", "))
            try holders.populate()
        } catch {
            holders.stop()
            throw error
        }
        return holders
    }
}
