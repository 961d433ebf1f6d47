/// The processes that hold mappings of one object, each mapping with its
/// role (shared, private-clean, private-written, misaligned, nohugepage,
/// uffd-wp): thplab itself, workers, or both. Retract's processes and a
/// region scenario's holder are this one thing: mapped, populated, observed
/// at each phase (populated, collapsed, refaulted) and every mapping judged
/// by the expectation model, in whichever process it is.
final class MappingHolders {
    private(set) var all: [MappingHost] = []
    private var workers: [WorkerProcess] = []
    private let observer: Observer
    /// What each mapping looked like at each phase, in `Observer.slots` order.
    private(set) var phases: [[Phase: PhaseObservation]]
    /// Bytes of each mapping.
    let size: Int

    /// `local`: thplab's own mappings (nil for none); `workers` more
    /// processes, each with the mappings `specs`; every mapping `size` bytes.
    init(object: SharedObject, size: Int, local: [MappingSpec]?, workers count: Int, specs: [MappingSpec],
         lab: Lab, executable: String) throws {
        self.size = size
        var hosts: [MappingHost] = [], started: [WorkerProcess] = []
        do {
            if let local { hosts.append(LocalHost(try ProcessMappings(fd: object.fd, size: size, specs: local))) }
            for _ in 0..<count {
                let w = try WorkerProcess(executable: executable, object: object.fd, guardian: lab.guardian)
                started.append(w)
                hosts.append(try RemoteHost(w, size: size, specs: specs))
            }
        } catch {
            for w in started { w.stop() }
            throw error
        }
        all = hosts
        workers = started
        observer = Observer(hosts: all)
        phases = Array(repeating: [:], count: observer.count)
    }

    var pids: [Int32] { all.map(\.pid) }
    var isEmpty: Bool { all.isEmpty }

    func each(_ body: (MappingHost) throws -> Void) throws { for h in all { try body(h) } }
    func populate() throws { try each { try $0.populate() } }
    func touchMmapLock() throws { try each { try $0.touchMmapLock() } }
    func refault() throws { try each { try $0.refault() } }
    func adviseHugepage(times: Int) throws { try each { try $0.adviseHugepage(times: times) } }
    func record(_ phase: Phase) { observer.record(phase, into: &phases) }

    /// Every mapping as observed, ready to judge; a mapping in thplab's own
    /// process is in the process that collapsed.
    var observed: [ObservedMapping] {
        observer.slots.enumerated().map { i, slot in
            ObservedMapping(role: slot.placement.role, pid: slot.pid, start: slot.placement.start, end: slot.placement.end,
                            inTriggerProcess: slot.pid == Sys.pid, phases: phases[i])
        }
    }

    /// Each mapping against the expectation model, once refaulted.
    func judge(_ context: ExpectationContext) -> (mappings: [MappingResult], differences: [String]) {
        RetractEvaluation.judge(observed, context: context)
    }

    func stop() {
        for w in workers { w.stop() }
        workers.removeAll()
        all.removeAll()
    }
}
