import SystemPackage

/// A program thplab starts and waits for: its input is /dev/null, its
/// output and errors go to the descriptors given. It leads a process group
/// of its own, so that a terminal's ^C reaches thplab alone, which stops it
/// (and, for a guest, every process under it) in order.
final class ChildProcess {
    let pid: Int32
    private var ended: Sys.ChildStatus?

    /// Starts `path` with `arguments`. The corresponding C function is `posix_spawn`.
    init(path: String, arguments: [String], output: FileDescriptor, errors: FileDescriptor) throws {
        let null = try FileDescriptor.open("/dev/null", .readOnly, options: .closeOnExec)
        defer { try? null.close() }
        do {
            pid = try Sys.spawn(path: path, arguments: arguments,
                                fdMap: [(null.rawValue, 0), (output.rawValue, 1), (errors.rawValue, 2)], newGroup: true)
        } catch {
            throw THPLabError.system("cannot run \(path)", error)
        }
    }

    /// Whether it still runs; reaps it once it has ended.
    var isRunning: Bool {
        if ended != nil { return false }
        do { ended = try Sys.waitpid(pid, block: false) } catch {
            // ECHILD: reaped elsewhere, so not running; nothing more can be known.
            ended = .exited(-1)
        }
        return ended == nil
    }

    /// Waits for it to end.
    @discardableResult
    func wait() -> Sys.ChildStatus {
        while ended == nil {
            do { ended = try Sys.waitpid(pid, block: true) } catch {
                // ECHILD: reaped elsewhere; nothing more can be known.
                ended = .exited(-1)
            }
        }
        return ended!
    }

    /// Its exit code, or the signal that ended it (waits for it to end).
    var terminationStatus: Int32 {
        switch wait() {
        case .exited(let code): return code
        case .signaled(let signal): return signal
        }
    }
}
