/// How much memory thplab may still fault in: MemAvailable, or less where
/// the memory cgroup it runs in (or an ancestor) has a limit. A size that
/// does not fit is refused before anything is made: a cgroup's limit is
/// not an error at populate time but the OOM killer (seen here: a 256M run
/// in a 64M v1 cgroup was SIGKILLed while populating).
public struct MemoryRoom: Equatable, Sendable {
    public var kb: Int64
    /// Where the figure comes from, for the message.
    public var source: String

    public init(kb: Int64, source: String) {
        self.kb = kb
        self.source = source
    }

    /// The host's room for this process; nil when meminfo cannot be read.
    public static func read(proc: ProcFS = .host) -> MemoryRoom? {
        guard let available = proc.memAvailableKB() else { return nil }
        var room = MemoryRoom(kb: available, source: "MemAvailable")
        if let (root, version) = MemoryCgroup.locateOnHost(),
           let own = FileIO.readIfPresent("/proc/self/cgroup"), let rel = MemoryCgroup.ownPath(cgroupText: own, version: version),
           let limited = cgroupHeadroom(root: root, path: rel, version: version), limited.kb < room.kb {
            room = limited
        }
        return room
    }

    /// The least room under any limit on the way from `path` (relative to
    /// the hierarchy's `root`) up to the root: v1's memory.limit_in_bytes
    /// less memory.usage_in_bytes, v2's memory.max less memory.current.
    /// nil when no cgroup on the way has a limit.
    static func cgroupHeadroom(root: String, path: String, version: MemoryCgroup.Version,
                               read: (String) -> String? = FileIO.readIfPresent) -> MemoryRoom? {
        let (limitFile, usageFile) = version == .v1 ? ("memory.limit_in_bytes", "memory.usage_in_bytes") : ("memory.max", "memory.current")
        var parts = path.split(separator: "/").map(String.init)
        var best: MemoryRoom?
        while true {
            let rel = "/" + parts.joined(separator: "/")
            let dir = root + (parts.isEmpty ? "" : rel)
            // v1 writes "no limit" as a page-rounded LLONG_MAX, v2 as "max".
            if let limitText = read(dir + "/" + limitFile)?.trimmingWhitespace(), let limit = Int64(limitText), limit < (1 << 60),
               let usage = read(dir + "/" + usageFile).flatMap({ Int64($0.trimmingWhitespace()) }) {
                let kb = max(0, limit - usage) >> 10
                if best == nil || kb < best!.kb {
                    best = MemoryRoom(kb: kb, source: "the limit of memory cgroup \(rel) (\(version.rawValue)): \(limit >> 20) MiB, \(usage >> 20) MiB in use")
                }
            }
            if parts.isEmpty { break }
            parts.removeLast()
        }
        return best
    }
}
