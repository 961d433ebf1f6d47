/// A process that holds mappings of the object: thplab itself or a worker.
/// The experiment drives both through this one interface.
public protocol MappingHost: AnyObject {
    var pid: Int32 { get }
    var placements: [MappingPlacement] { get }
    func populate() throws
    func adviseHugepage(times: Int) throws
    func adviseNoHugepage() throws
    func refault() throws
    func collapse(role: MappingRole) throws -> AdviceOutcome?
    func touchMmapLock() throws
}

/// thplab's own mappings.
final class LocalHost: MappingHost {
    let mappings: ProcessMappings
    init(_ mappings: ProcessMappings) { self.mappings = mappings }
    var pid: Int32 { Sys.pid }
    var placements: [MappingPlacement] { mappings.placements }
    func populate() throws { try mappings.populate() }
    func adviseHugepage(times: Int) throws { try mappings.adviseHugepage(times: times) }
    func adviseNoHugepage() throws { try mappings.adviseNoHugepage() }
    func refault() throws { try mappings.refault() }
    func collapse(role: MappingRole) throws -> AdviceOutcome? { mappings.collapse(role: role) }
    func touchMmapLock() throws { Sys.touchMmapLock() }
}

/// A worker's mappings, driven over its pipe.
final class RemoteHost: MappingHost {
    let worker: WorkerProcess
    private(set) var placements: [MappingPlacement] = []
    init(_ worker: WorkerProcess, size: Int, specs: [MappingSpec]) throws {
        self.worker = worker
        placements = try worker.request(.map(size: size, specs: specs)).placements ?? []
    }
    var pid: Int32 { worker.pid }
    func populate() throws { try worker.request(.populate) }
    func adviseHugepage(times: Int) throws { try worker.request(.adviseHugepage(times: times)) }
    func adviseNoHugepage() throws { try worker.request(.adviseNoHugepage) }
    func refault() throws { try worker.request(.refault) }
    func collapse(role: MappingRole) throws -> AdviceOutcome? { try worker.request(.collapse(role)).outcome }
    func touchMmapLock() throws { try worker.request(.touchMmapLock) }
}
