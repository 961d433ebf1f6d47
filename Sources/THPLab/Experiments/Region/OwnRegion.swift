/// thplab's own region: the object (none for anonymous memory) and its
/// shared mapping, placed on NUMA nodes before any page is faulted in, then
/// populated with `present` pages of each extent.
struct OwnRegion {
    let object: SharedObject?
    let region: MappedRegion
    let placement: Placement?
    let topology: NumaTopology
    private let nodeMap: PfnNodeMap
    let extents: Int

    init(_ o: RegionOptions, lab: Lab) throws {
        let size = o.extents * PageGeometry.pmdSize
        extents = o.extents
        if o.backing == .anon {
            object = nil
            region = try MappedRegion(anonymousLength: size)
        } else {
            let obj = try SharedObject(backing: o.backing, size: size, tmpfsHuge: o.tmpfsHuge, tmpfsSize: nil,
                                       directory: o.directory, guardian: lab.guardian)
            object = obj
            region = try MappedRegion(fd: obj.fd, length: size, fileOffset: 0, shared: true)
        }
        topology = NumaTopology.read()
        nodeMap = PfnNodeMap.read(nodes: topology.nodes.map(\.node))
        placement = o.placement ?? o.scenario.rules.defaultPlacement(topology)
        try placement?.apply(to: region)
        try Self.populate(region, o, lab: lab)
    }

    /// Faults in `present` pages of each extent. A knob the user sweeps is
    /// never overridden, not even for populate: a shmem_enabled=always point
    /// must show what always does.
    private static func populate(_ region: MappedRegion, _ o: RegionOptions, lab: Lab) throws {
        let plan = o.backing == .anon ? KnobPlan.forAnonPopulate(current: lab.knobsBefore)
            : o.backing.isShmem ? KnobPlan.forPopulate(current: lab.knobsBefore) : []
        try lab.apply(plan)
        for e in 0..<o.extents {
            if case .failure(let err) = Sys.result({ try region.madvise(.populateWrite, offset: e * PageGeometry.pmdSize, length: o.present * PageGeometry.pageSize) }) {
                throw THPLabError(.usage, "populating extent \(e) failed: the filesystem or memory is full", errno: err)
            }
        }
    }

    var watched: RegionSet.Region { .init(pid: Sys.pid, start: region.start, traceName: object?.traceName) }

    /// Where the pages went after populate, and whether the placement held.
    struct Placed {
        var countNodes: Bool
        var nodesBefore: [[Int: Int]]
        var problem: String?
    }

    func checkPlacement(lab: Lab) -> Placed {
        let countNodes = placement != nil || topology.nodes.count > 1
        let before = countNodes ? nodesPerExtent() : []
        var problem: String?
        if let placement {
            problem = placement.check(pagesPerNode: NodeCounter.total(before))
            lab.note(problem.map { "placement did not hold: " + $0 } ?? "placement held after populate: \(placement.description)")
        }
        return Placed(countNodes: countNodes, nodesBefore: before, problem: problem)
    }

    func nodesPerExtent() -> [[Int: Int]] {
        NodeCounter.perExtent(pid: Sys.pid, start: region.start, extents: extents, map: nodeMap)
    }

    /// The placement asked for, whether it held, and where the huge pages landed.
    func numaSummary(_ outcomes: [ExtentOutcome], problem: String?) -> NumaRunSummary {
        var byNode: [String: Int] = [:]
        for e in outcomes where e.collapsed {
            if let n = e.nodesAfter?.max(by: { $0.value < $1.value })?.key { byNode[n, default: 0] += 1 }
        }
        return NumaRunSummary(placement: placement?.description, placementHeld: placement.map { _ in problem == nil },
                              nodesBefore: topology.nodes, nodesAfter: NumaTopology.read().nodes, hugePagesByNode: byNode)
    }
}

/// The other processes of `processes` > 1: each a worker with its own
/// object, fully populated, competing with thplab's region for khugepaged.
final class Competitors {
    private(set) var members: [(object: SharedObject, worker: WorkerProcess, host: RemoteHost)] = []

    init(_ o: RegionOptions, lab: Lab, executable: String) throws {
        let size = o.extents * PageGeometry.pmdSize
        do {
            for p in 1..<max(o.processes, 1) {
                let obj = try SharedObject(backing: o.backing, size: size, tmpfsHuge: o.tmpfsHuge, tmpfsSize: nil,
                                           directory: o.directory, guardian: lab.guardian, suffix: "-r\(p)")
                let w = try WorkerProcess(executable: executable, object: obj.fd, guardian: lab.guardian)
                let h = try RemoteHost(w, size: size, specs: [MappingSpec(role: .shared)])
                members.append((obj, w, h))
                try h.populate()
            }
        } catch {
            stop()
            throw error
        }
    }

    var watched: [RegionSet.Region] { members.map { .init(pid: $0.host.pid, start: $0.host.placements[0].start, traceName: $0.object.traceName) } }
    func touchMmapLock() throws { for m in members { try m.host.touchMmapLock() } }
    func adviseHugepage() throws { for m in members { try m.host.adviseHugepage(times: 2) } }
    func refault() throws { for m in members { try m.host.refault() } }
    func stop() { for m in members { m.worker.stop() } }
}
