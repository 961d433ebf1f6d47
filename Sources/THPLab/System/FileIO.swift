import Dispatch
import SystemPackage

/// Reading and writing the small text files of /proc and /sys.
/// Their reported size is never trusted: read to end into a bounded buffer.
public enum FileIO {
    /// Reads the whole file, at most `limit` bytes.
    public static func read(_ path: String, limit: Int = 16 << 20) throws -> String {
        let bytes = try readBytes(path, limit: limit)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func readBytes(_ path: String, limit: Int = 16 << 20) throws -> [UInt8] {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) } catch let e as Errno {
            throw THPLabError(.system, "cannot open \(path)", errno: e)
        }
        defer { try? fd.close() }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while out.count < limit {
            let n: Int
            do { n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) } } catch let e as Errno {
                throw THPLabError(.system, "cannot read \(path)", errno: e)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<min(n, limit - out.count)])
        }
        return out
    }

    /// Starts reading a file on another thread and turning its text (nil
    /// if it could not be read) into a value there; the returned function
    /// waits for that value.
    public static func readInBackground<T>(_ path: String, limit: Int, then transform: @escaping @Sendable (String?) -> T) -> () -> T {
        let box = BackgroundValue<T>()
        let done = DispatchSemaphore(value: 0)
        Sys.detachThread {
            box.value = transform(try? read(path, limit: limit))
            done.signal()
        }
        return {
            done.wait()
            return box.value!
        }
    }

    /// Writes all of `bytes` to standard output, or to standard error. A
    /// reader that has gone (a closed pipe) loses the rest, quietly.
    public static func writeStandard(_ bytes: [UInt8], errors: Bool = false) {
        _ = try? (errors ? FileDescriptor.standardError : FileDescriptor.standardOutput).writeAll(bytes)
    }

    /// Reads a file, or nil when it does not exist or cannot be read.
    public static func readIfPresent(_ path: String) -> String? { try? read(path) }

    /// Writes `text` in one write(2) to an existing file, as sysfs expects
    /// (O_TRUNC, as a shell's `>` does: sysfs ignores it, a plain file needs it).
    public static func writeExisting(_ path: String, _ text: String) -> Result<Void, Errno> {
        do {
            let fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.truncate, .closeOnExec])
            defer { try? fd.close() }
            _ = try fd.writeAll(Array(text.utf8))
            return .success(())
        } catch let e as Errno {
            return .failure(e)
        } catch {
            return .failure(.ioError)
        }
    }

    /// Creates or replaces `path` atomically (write to a temporary name,
    /// fsync, rename), so a crash leaves the old or the new content.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8],
                                       permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]) throws {
        // A device or pipe (/dev/null, /dev/stdout, a FIFO) is written in
        // place: renaming over it would replace the node itself.
        if Sys.exists(path) && !Sys.isRegularFile(path) {
            if case .failure(let e) = writeExisting(path, String(decoding: bytes, as: UTF8.self)) {
                throw THPLabError(.system, "cannot write \(path)", errno: e)
            }
            return
        }
        let tmp = path + ".tmp"
        do {
            let fd = try FileDescriptor.open(FilePath(tmp), .writeOnly,
                                             options: [.create, .truncate, .closeOnExec],
                                             permissions: permissions)
            do {
                _ = try fd.writeAll(bytes)
                try Sys.fsync(fd)
                try fd.close()
            } catch {
                try? fd.close()
                throw error
            }
        } catch let e as Errno {
            // A full filesystem leaves a part-written file: not a leftover.
            _ = try? Sys.unlink(tmp)
            throw THPLabError(.system, "cannot write \(tmp)", errno: e)
        }
        if case .failure(let e) = Sys.result({ try Sys.rename(tmp, path) }) {
            _ = try? Sys.unlink(tmp)
            throw THPLabError(.system, "cannot rename \(tmp) to \(path)", errno: e)
        }
    }
}

/// A value one thread sets before signalling and another reads after waiting.
private final class BackgroundValue<T>: @unchecked Sendable {
    var value: T?
}
