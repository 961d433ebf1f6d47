import SystemPackage

/// What a shared object's page cache holds, seen through another
/// process's mapping: /proc/PID/map_files/START-END opens the file behind
/// a VMA (root only), and SEEK_DATA/SEEK_HOLE count the pages present in
/// it, mapped by anyone or by nobody.
public final class PageCacheProbe {
    private var open: [String: FileDescriptor] = [:]
    let procRoot: String

    public init(procRoot: String = "/proc") { self.procRoot = procRoot }

    deinit { for fd in open.values { try? fd.close() } }

    /// Pages present in the file behind `[vmaStart, vmaEnd)` of `pid` for
    /// the file range `[offset, offset + length)`; nil when it cannot be
    /// told (no map_files access, or a file without SEEK_DATA).
    public func presentPages(pid: Int32, vmaStart: UInt, vmaEnd: UInt, offset: UInt64, length: UInt64) -> Int? {
        let path = "\(procRoot)/\(pid)/map_files/\(String(vmaStart, radix: 16))-\(String(vmaEnd, radix: 16))"
        let fd: FileDescriptor
        if let cached = open[path] { fd = cached } else {
            guard let f = try? FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) else { return nil }
            open[path] = f
            fd = f
        }
        return Sys.dataBytes(fd, start: Int64(offset), end: Int64(offset + length)).map { Int($0 / 4096) }
    }
}
