import FoundationEssentials
import SystemPackage

/// What thplab asks a worker process, one JSON object per line on the
/// worker's stdin; the worker answers one `WorkerReply` line on its stdout.
public enum WorkerRequest: Codable, Equatable, Sendable {
    case map(size: Int, specs: [MappingSpec])
    case populate
    case adviseHugepage(times: Int)
    case adviseNoHugepage
    case refault
    case collapse(MappingRole)
    /// Map and unmap one page: takes the process's own mmap_lock, which a
    /// tracepoint then ties to its hashed mm.
    case touchMmapLock
    /// Map `length` bytes at a 2 MiB boundary, private anonymous memory or
    /// the inherited object shared from offset 0, with MADV_HUGEPAGE; the
    /// reply's `address` says where. Nothing is faulted in yet.
    case mapForFault(anonymous: Bool, length: Int)
    /// Write the first page of that mapping: one fault.
    case writeFirstPage
    case quit
}

public struct WorkerReply: Codable, Equatable, Sendable {
    public var ok: Bool
    public var placements: [MappingPlacement]?
    public var outcome: AdviceOutcome?
    /// Where `mapForFault` mapped.
    public var address: UInt?
    public var error: String?
    public var errno: Int32?

    public static let done = WorkerReply(ok: true)

    public init(ok: Bool, placements: [MappingPlacement]? = nil, outcome: AdviceOutcome? = nil, address: UInt? = nil,
                error: String? = nil, errno: Int32? = nil) {
        self.ok = ok
        self.placements = placements
        self.address = address
        self.outcome = outcome
        self.error = error
        self.errno = errno
    }
}

/// Newline-delimited JSON over a pipe, with a bound on every wait.
struct LineChannel {
    let readFD: FileDescriptor
    let writeFD: FileDescriptor
    private var buffer: [UInt8] = []

    init(read: FileDescriptor, write: FileDescriptor) {
        readFD = read
        writeFD = write
    }

    func send<T: Encodable>(_ value: T) throws {
        var bytes = Array(try JSONEncoder().encode(value))
        bytes.append(UInt8(ascii: "\n"))
        do { _ = try writeFD.writeAll(bytes) } catch let e as Errno {
            throw THPLabError.system("cannot talk to the worker process", e)
        }
    }

    /// Reads one line; nil at end of file. `timeoutMs` < 0 waits forever
    /// (used only by the worker, whose parent may take its time).
    mutating func receive<T: Decodable>(_ type: T.Type, timeoutMs: Int32) throws -> T? {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                do { return try JSONDecoder().decode(T.self, from: Data(line)) } catch {
                    throw THPLabError(.system, "unreadable message on the worker pipe: \(String(decoding: line, as: UTF8.self))")
                }
            }
            if timeoutMs >= 0 {
                let ready = try Sys.result { try Sys.waitReadable(readFD, timeoutMs: timeoutMs) }
                    .mapError { THPLabError.system("poll on the worker pipe failed", $0) }.get()
                if !ready {
                    throw THPLabError(.system, "the worker process did not answer within \(timeoutMs / 1000) s")
                }
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n: Int
            do { n = try chunk.withUnsafeMutableBytes { try readFD.read(into: $0, retryOnInterrupt: true) } } catch let e as Errno {
                throw THPLabError.system("cannot read from the worker pipe", e)
            }
            if n == 0 { return nil }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}
