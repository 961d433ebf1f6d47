/// How /proc/PID/maps names shmem. The kernel's internal shm mount backs
/// memfd (`/memfd:NAME`), SysV segments (`/SYSV<key>`) and shared anonymous
/// memory (`/dev/zero`): they follow shmem_enabled. Files of a tmpfs such as
/// /dev/shm follow their mount's huge= instead.
public enum ShmemNames {
    static let internalPrefixes = ["/memfd:", "/SYSV", "/dev/zero"]
    /// The tmpfs every Debian system mounts for POSIX shared memory.
    public static let devShm = "/dev/shm"

    /// A mapping of the internal shm mount (memfd, SysV, shared anonymous).
    public static func isInternal(_ name: String) -> Bool {
        internalPrefixes.contains { name.hasPrefix($0) }
    }

    /// Any shmem a mapping's name alone tells: the internal mount's, or a
    /// file of /dev/shm.
    public static func isShmem(_ name: String) -> Bool {
        isInternal(name) || name.hasPrefix(devShm + "/")
    }
}
