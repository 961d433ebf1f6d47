/// The processes of a retract run: thplab's own mappings of the object and
/// those of `processes - 1` workers, each with one mapping of every role,
/// all populated. The trigger process is thplab (the first host).
extension MappingHolders {
    static func retract(_ o: RetractOptions, object: SharedObject, lab: Lab, executable: String) throws -> MappingHolders {
        let hosts = try MappingHolders(object: object, size: o.size, local: o.specs, workers: max(o.processes, 1) - 1,
                                       specs: o.specs, lab: lab, executable: executable)
        do {
            lab.step("populating every mapping in \(hosts.all.count) process(es)")
            try hosts.populate()
        } catch let e as THPLabError where object.path != nil && e.isOutOfSpace {
            hosts.stop()
            throw THPLabError(.usage, "the \(o.backing.rawValue) filesystem of \(object.name) has no room for \(SizeParser.format(o.size)): \(e.description). Give a smaller --size\(o.backing == .tmpfs ? " or a larger --tmpfs-size" : "")")
        } catch {
            hosts.stop()
            throw error
        }
        return hosts
    }

    var trigger: MappingHost { all[0] }
    /// PMD-sized extents of each mapping.
    var extents: Int { size / PageGeometry.pmdSize }

    /// The trigger process's shared mapping: the one collapse is watched on.
    func sharedRegion(_ object: SharedObject) -> RegionSet.Region {
        let start = trigger.placements.first { $0.role == .shared }!.start
        return .init(pid: trigger.pid, start: start, traceName: object.traceName)
    }

    /// What events are attributed to: the object and every mapping of it.
    func subject(_ object: SharedObject) -> TraceSubject {
        TraceSubject(objects: [.init(traceName: object.traceName, owner: nil, extents: extents)],
                     mappings: all.flatMap { h in h.placements.map { .init(pid: h.pid, object: 0, start: $0.start, end: $0.end, offset: 0) } })
    }

    /// Which extents are on a huge page now, as the trigger process sees them.
    func hugeExtents(_ shared: RegionSet.Region) throws -> [Bool] {
        let reader = try ExtentReader(RegionSet(regions: [shared], extentsEach: extents))
        return try (0..<extents).map { CollapseSignal.hugeFolio.collapsed(try reader.counts($0)) }
    }
}
