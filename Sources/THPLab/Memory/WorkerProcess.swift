import SystemPackage

/// thplab's handle on one worker process: its own binary run as the hidden
/// `worker` subcommand, with the object (if any) on fd 3 and a request/reply pipe on
/// stdin/stdout. The worker dies with thplab (PR_SET_PDEATHSIG) and is
/// always reaped: by `stop()`, by the host guard on a signal, or here.
public final class WorkerProcess {
    public let pid: Int32
    private var channel: LineChannel
    private let guardian: HostGuard
    private var reaped = false

    /// Bound on any one request: populating a large object takes a while.
    public var timeoutMs: Int32 = 300_000

    public init(executable: String, object: FileDescriptor?, guardian: HostGuard) throws {
        let toWorker = try Sys.result { try Sys.pipe() }.mapError { THPLabError.system("pipe failed", $0) }.get()
        let fromWorker = try Sys.result { try Sys.pipe() }.mapError { THPLabError.system("pipe failed", $0) }.get()
        defer {
            try? toWorker.read.close()
            try? fromWorker.write.close()
        }
        let pid = try Sys.result { try Sys.spawn(path: executable, arguments: ["worker", "--parent", "\(Sys.pid)"],
                                                 fdMap: (object.map { [($0.rawValue, WorkerServer.objectFD)] } ?? [])
                                                     + [(toWorker.read.rawValue, 0), (fromWorker.write.rawValue, 1)]) }
            .mapError { THPLabError.system("cannot start a worker process from \(executable)", $0) }.get()
        guardian.addWorker(pid)
        self.pid = pid
        self.guardian = guardian
        self.channel = LineChannel(read: fromWorker.read, write: toWorker.write)
    }

    /// Sends a request and waits (bounded) for its reply.
    @discardableResult
    public func request(_ r: WorkerRequest) throws -> WorkerReply {
        try channel.send(r)
        guard let reply = try channel.receive(WorkerReply.self, timeoutMs: timeoutMs) else {
            throw THPLabError(.system, "worker \(pid) exited unexpectedly")
        }
        if !reply.ok {
            throw THPLabError(.system, "worker \(pid): \(reply.error ?? "failed")",
                              errno: reply.errno.map { Errno(rawValue: $0) })
        }
        return reply
    }

    /// Asks the worker to quit, waits at most 5 s, then kills it; reaps it.
    public func stop() {
        guard !reaped else { return }
        try? channel.send(WorkerRequest.quit)
        let deadline = Sys.monotonicNanoseconds() + 5_000_000_000
        while Sys.monotonicNanoseconds() < deadline {
            if case .success(.some) = Sys.result({ try Sys.waitpid(pid, block: false) }) { finish(); return }
            Sys.sleep(milliseconds: 10)
        }
        Sys.kill(pid, Sys.SIGKILL)
        _ = try? Sys.waitpid(pid, block: true)
        finish()
    }

    private func finish() {
        reaped = true
        guardian.removeWorker(pid)
        try? channel.readFD.close()
        try? channel.writeFD.close()
    }

    deinit { stop() }
}
