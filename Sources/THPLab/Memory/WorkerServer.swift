import SystemPackage

/// The body of `thplab worker`: a process that maps the object it inherited
/// on fd 3 as told, and does what thplab asks over stdin/stdout.
public enum WorkerServer {
    public static let objectFD: Int32 = 3

    /// Runs until `quit`, end of input, or the death of `parentPid`.
    public static func run(parentPid: Int32) -> Int32 {
        // Die with the parent. Checked after setting it: the parent may have
        // gone between spawn and prctl.
        _ = try? Sys.setParentDeathSignal(Sys.SIGKILL)
        if Sys.parentPid != parentPid { return 1 }
        var channel = LineChannel(read: .standardInput, write: .standardOutput)
        var mappings: ProcessMappings?
        var faultRegion: MappedRegion?
        while true {
            let request: WorkerRequest?
            do { request = try channel.receive(WorkerRequest.self, timeoutMs: -1) } catch { return 1 }
            guard let request else { return 0 }
            let reply: WorkerReply
            do {
                switch request {
                case .map(let size, let specs):
                    let m = try ProcessMappings(fd: FileDescriptor(rawValue: objectFD), size: size, specs: specs)
                    mappings = m
                    reply = WorkerReply(ok: true, placements: m.placements)
                case .populate:
                    try mapped(mappings).populate()
                    reply = .done
                case .adviseNoHugepage:
                    try mapped(mappings).adviseNoHugepage()
                    reply = .done
                case .adviseHugepage(let times):
                    try mapped(mappings).adviseHugepage(times: times)
                    reply = .done
                case .refault:
                    try mapped(mappings).refault()
                    reply = .done
                case .collapse(let role):
                    reply = WorkerReply(ok: true, outcome: try mapped(mappings).collapse(role: role))
                case .touchMmapLock:
                    Sys.touchMmapLock()
                    reply = .done
                case .mapForFault(let anonymous, let length):
                    let region = anonymous ? try MappedRegion(anonymousLength: length)
                        : try MappedRegion(fd: FileDescriptor(rawValue: objectFD), length: length, fileOffset: 0, shared: true)
                    do { try region.madvise(.hugepage) } catch { throw THPLabError.system("MADV_HUGEPAGE failed", error) }
                    faultRegion = region
                    reply = WorkerReply(ok: true, address: region.start)
                case .writeFirstPage:
                    guard let region = faultRegion else { throw THPLabError(.system, "worker asked to write before mapping") }
                    do { try region.writePages(1) } catch { throw THPLabError.system("the write fault failed", error) }
                    reply = .done
                case .quit:
                    try? channel.send(WorkerReply.done)
                    return 0
                }
            } catch let e as THPLabError {
                try? channel.send(WorkerReply(ok: false, error: e.message, errno: e.errno?.rawValue))
                continue
            } catch {
                try? channel.send(WorkerReply(ok: false, error: "\(error)"))
                continue
            }
            do { try channel.send(reply) } catch { return 1 }
        }
    }

    private static func mapped(_ m: ProcessMappings?) throws -> ProcessMappings {
        guard let m else { throw THPLabError(.system, "worker asked to act before mapping") }
        return m
    }
}
