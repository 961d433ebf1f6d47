/// The processes of a retract run: thplab's own mappings of the object and
/// those of `processes - 1` workers, each with one mapping of every role,
/// all populated.
final class RetractHosts {
    private(set) var all: [MappingHost]
    private var workers: [WorkerProcess] = []
    let extents: Int

    init(_ o: RetractOptions, object: SharedObject, lab: Lab, executable: String) throws {
        extents = o.size / PageGeometry.pmdSize
        all = [LocalHost(try ProcessMappings(fd: object.fd, size: o.size, specs: o.specs))]
        do {
            for _ in 1..<max(o.processes, 1) {
                let w = try WorkerProcess(executable: executable, object: object.fd, guardian: lab.guardian)
                workers.append(w)
                all.append(try RemoteHost(w, size: o.size, specs: o.specs))
            }
            lab.step("populating every mapping in \(all.count) process(es)")
            for h in all {
                do { try h.populate() } catch let e as THPLabError where object.path != nil && e.isOutOfSpace {
                    throw THPLabError(.usage, "the \(o.backing.rawValue) filesystem of \(object.name) has no room for \(SizeParser.format(o.size)): \(e.description). Give a smaller --size\(o.backing == .tmpfs ? " or a larger --tmpfs-size" : "")")
                }
            }
        } catch {
            stop()
            throw error
        }
    }

    var trigger: MappingHost { all[0] }
    var pids: [Int32] { all.map(\.pid) }

    func each(_ body: (MappingHost) throws -> Void) throws { for h in all { try body(h) } }
    func touchMmapLock() throws { try each { try $0.touchMmapLock() } }

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

    func stop() {
        for w in workers { w.stop() }
        workers.removeAll()
        all.removeAll()
    }
}
