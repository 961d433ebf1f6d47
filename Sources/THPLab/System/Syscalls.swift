import CShims
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The one Swift file that calls C. Everything else calls these typed
/// wrappers, which throw the call's `Errno` so that callers decide how to
/// phrase the failure for a person.
enum Sys {
    static func lastErrno() -> Errno { Errno(rawValue: Glibc.errno) }

    /// 0, or the errno of the call that just failed. Every function here
    /// throws its errno (typed), as swift-system does; callers wrap it in a
    /// `THPLabError` that says what was being done.
    static func check(_ rc: Int32) throws(Errno) {
        if rc != 0 { throw lastErrno() }
    }

    /// A call's outcome as a value, for code that branches on the errno.
    static func result<T>(_ body: () throws -> T) -> Result<T, Errno> {
        do { return .success(try body()) } catch { return .failure(error as? Errno ?? .ioError) }
    }

    /// The one retry on EINTR: calls `body` again while a signal interrupts it.
    @discardableResult
    static func retrying(_ body: () -> Int32) throws(Errno) -> Int32 {
        while true {
            let rc = body()
            if rc >= 0 { return rc }
            let e = lastErrno()
            if e != .interrupted { throw e }
        }
    }

    // MARK: memory

    /// The corresponding C function is `memfd_create` (with MFD_CLOEXEC).
    static func memfdCreate(name: String) throws(Errno) -> FileDescriptor {
        let fd = cshims_memfd_create(name, cshims_MFD_CLOEXEC)
        if fd < 0 { throw lastErrno() }
        return FileDescriptor(rawValue: fd)
    }

    typealias Advice = THPLab.Advice


    /// The corresponding C function is `mmap`. `fixed` places the mapping at
    /// `address` over an existing reservation (MAP_FIXED).
    static func mmap(address: UInt = 0, length: Int, writable: Bool, shared: Bool, fixed: Bool,
                     fd: FileDescriptor?, offset: Int64) throws(Errno) -> UInt {
        var prot = PROT_READ
        if writable { prot |= PROT_WRITE }
        var flags = shared ? MAP_SHARED : MAP_PRIVATE
        if fixed { flags |= MAP_FIXED }
        if fd == nil { flags |= MAP_ANONYMOUS | MAP_NORESERVE }
        let p = cshims_mmap(UnsafeMutableRawPointer(bitPattern: address), length, prot, flags,
                            fd?.rawValue ?? -1, off_t(offset))
        guard let p else { throw lastErrno() }
        return UInt(bitPattern: p)
    }

    /// The corresponding C function is `munmap`.
    static func munmap(address: UInt, length: Int) {
        _ = Glibc.munmap(UnsafeMutableRawPointer(bitPattern: address), length)
    }

    /// Maps and unmaps one anonymous page: both take this process's
    /// mmap_lock for writing, which `mmap_lock` tracepoints then show with
    /// this task's pid and the mm's hashed pointer.
    static func touchMmapLock() {
        if let a = try? mmap(length: pageSize, writable: false, shared: false, fixed: false, fd: nil, offset: 0) {
            munmap(address: a, length: pageSize)
        }
    }

    /// The corresponding C function is `madvise`.
    static func madvise(address: UInt, length: Int, _ advice: Advice) throws(Errno) {
        // MADV_POPULATE_* can be interrupted; MADV_COLLAPSE's EAGAIN is a result.
        try retrying { cshims_madvise(UnsafeMutableRawPointer(bitPattern: address), length, advice.raw) }
    }

    /// `mprotect`: read-only, or read-write.
    static func mprotect(address: UInt, length: Int, writable: Bool) throws(Errno) {
        guard Glibc.mprotect(UnsafeMutableRawPointer(bitPattern: address), length, PROT_READ | (writable ? PROT_WRITE : 0)) == 0 else {
            throw lastErrno()
        }
    }

    /// `process_madvise(pidfd_open(pid), [address, length), advice)`.
    static func processMadvise(pid: Int32, address: UInt, length: Int, _ advice: Advice) throws(Errno) {
        let rc = cshims_process_madvise_one(pid, UnsafeMutableRawPointer(bitPattern: address), length, advice.raw)
        if rc < 0 { throw lastErrno() }
    }

    static func ftruncate(_ fd: FileDescriptor, size: Int64) throws(Errno) {
        try retrying { Glibc.ftruncate(fd.rawValue, off_t(size)) }
    }

    public static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// ioctl(PAGEMAP_SCAN) on an open /proc/PID/pagemap: fills `into` and
    /// returns how many ranges it holds and where the walk stopped.
    static func pagemapScan(_ fd: FileDescriptor, start: UInt64, end: UInt64, inverted: UInt64 = 0, anyOf: UInt64, returnMask: UInt64,
                            into buffer: UnsafeMutableBufferPointer<cshims_page_region>) throws(Errno) -> (count: Int, walkEnd: UInt64) {
        var walkEnd: UInt64 = 0
        let n = cshims_pagemap_scan(fd.rawValue, start, end, inverted, anyOf, returnMask, buffer.baseAddress,
                                    UInt64(buffer.count), &walkEnd)
        if n < 0 { throw lastErrno() }
        return (Int(n), walkEnd)
    }

    // MARK: processes

    /// Runs `body` on a new thread of its own, which nobody joins.
    /// The corresponding C functions are `pthread_create` and `pthread_detach`.
    static func detachThread(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        guard rc == 0 else {
            // No thread to be had (EAGAIN): the work is done here instead.
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            body()
            return
        }
        pthread_detach(thread)
    }

    private final class ThreadBody {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }


    /// posix_spawn of `path` with `arguments`; `fdMap` pairs (from, to) are
    /// dup2'd in the child. The child starts with default signal handling,
    /// in a process group of its own when `newGroup`.
    static func spawn(path: String, arguments: [String], fdMap: [(Int32, Int32)], newGroup: Bool = false) throws(Errno) -> Int32 {
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        // First move every source above the targets' range, so that no
        // dup2 in the child overwrites a source still to be copied.
        var high: [Int32] = []
        defer { for fd in high { _ = close(fd) } }
        // Just above the highest target (not a fixed 100, which is past a
        // small RLIMIT_NOFILE: F_DUPFD then fails with EINVAL).
        let above = (fdMap.map(\.1).max() ?? 2) + 1
        for (from, _) in fdMap {
            let fd = fcntl(from, F_DUPFD_CLOEXEC, above)
            if fd < 0 { throw lastErrno() }
            high.append(fd)
        }
        let flat = zip(high, fdMap).flatMap { [$0, $1.1] }
        var pid: pid_t = 0
        let rc = flat.withUnsafeBufferPointer { buf in
            cshims_spawn(&pid, path, cArgs, buf.baseAddress, Int32(fdMap.count), newGroup ? 1 : 0)
        }
        if rc != 0 { throw Errno(rawValue: rc) }
        return pid
    }

    /// Runs `path` with `arguments`, stdout to /dev/null and stderr to the
    /// file `stderrPath`, and waits for it.
    public static func runQuietly(_ path: String, _ arguments: [String], stderrPath: String) throws -> ChildStatus? {
        let null = try FileDescriptor.open("/dev/null", .writeOnly, options: .closeOnExec)
        defer { try? null.close() }
        let err = try FileDescriptor.open(FilePath(stderrPath), .writeOnly, options: [.create, .truncate, .closeOnExec],
                                          permissions: [.ownerReadWrite])
        defer { try? err.close() }
        let pid: Int32
        do { pid = try spawn(path: path, arguments: arguments, fdMap: [(null.rawValue, 1), (err.rawValue, 2)]) } catch {
            throw THPLabError.system("cannot run \(path)", error)
        }
        do { return try waitpid(pid, block: true) } catch { throw THPLabError.system("waitpid failed", error) }
    }

    /// posix_spawnp of a user's command (PATH lookup), inheriting stdio.
    static func spawnCommand(_ arguments: [String]) throws(Errno) -> Int32 {
        var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = cshims_spawnp(&pid, arguments[0], cArgs)
        if rc != 0 { throw Errno(rawValue: rc) }
        return pid
    }

    /// execvp: replaces this process with `arguments` (PATH lookup); returns
    /// only on failure.
    public static func exec(_ arguments: [String]) -> Errno {
        var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cArgs.append(nil)
        _ = execvp(arguments[0], cArgs)
        return lastErrno()
    }

    public enum ChildStatus: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
    }

    /// waitpid; `block: false` returns nil while the child still runs.
    @discardableResult
    static func waitpid(_ pid: Int32, block: Bool) throws(Errno) -> ChildStatus? {
        var status: Int32 = 0
        let rc = try retrying { Glibc.waitpid(pid, &status, block ? 0 : WNOHANG) }
        if rc == 0 { return nil }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros: decode by hand.
        let sig = status & 0x7f
        return sig == 0 ? .exited((status >> 8) & 0xff) : .signaled(sig)
    }

    public static let SIGKILL = Glibc.SIGKILL
    public static let SIGTERM = Glibc.SIGTERM

    /// KVM's device: a guest boots with acceleration only where it opens.
    public static let kvmDevice = "/dev/kvm"

    static func kill(_ pid: Int32, _ signal: Int32) {
        _ = Glibc.kill(pid, signal)
    }

    /// Sets a signal's disposition to ignore, so that a Dispatch signal
    /// source is its only handler.
    static func ignoreSignal(_ signal: Int32) {
        _ = Glibc.signal(signal, SIG_IGN)
    }

    static func setParentDeathSignal(_ signal: Int32) throws(Errno) {
        try check(cshims_set_parent_death_signal(signal))
    }

    /// A forked child that holds thplab's memory copy-on-write until killed
    /// (see cshims_fork_holder).
    static func forkHolder() throws(Errno) -> Int32 {
        let pid = cshims_fork_holder()
        if pid < 0 { throw Errno(rawValue: errno) }
        return pid
    }

    public static var pid: Int32 { getpid() }

    /// The CPUs this process may run on (its affinity mask, so `taskset`
    /// counts; ProcessInfo's activeProcessorCount does not see it).
    static var allowedCPUs: Int { Int(cshims_allowed_cpus()) }
    public static var parentPid: Int32 { getppid() }

    static func pipe() throws(Errno) -> (read: FileDescriptor, write: FileDescriptor) {
        // pipe2 with O_CLOEXEC: no window in which a spawned child inherits it.
        var fds: [Int32] = [0, 0]
        try check(fds.withUnsafeMutableBufferPointer { cshims_pipe_cloexec($0.baseAddress) })
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// poll(2) for readability with a timeout; true when readable (or hung up).
    static func waitReadable(_ fd: FileDescriptor, timeoutMs: Int32) throws(Errno) -> Bool {
        var p = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
        return try retrying { poll(&p, 1, timeoutMs) } > 0
    }

    // MARK: capabilities, NUMA, identity

    /// libcap `cap_get_proc` + `cap_get_flag(CAP_SYS_ADMIN, CAP_EFFECTIVE)`.
    static func hasEffectiveSysAdmin() throws(Errno) -> Bool {
        let rc = cshims_has_effective_capability(cshims_CAP_SYS_ADMIN)
        if rc < 0 { throw lastErrno() }
        return rc == 1
    }

    public static var effectiveUID: UInt32 { geteuid() }

    /// libnuma: nil when `numa_available()` says the kernel has no NUMA
    /// support, otherwise the number of possible nodes (`numa_max_node() + 1`).
    public static func numaNodeCount() -> Int? {
        cshims_numa_available() < 0 ? nil : Int(cshims_numa_max_node()) + 1
    }

    enum MemoryPolicy { case preferred, bind, interleave }

    /// mbind(2): the memory policy of a range, over nodes 0...63.
    static func mbind(address: UInt, length: Int, policy: MemoryPolicy, nodes: [Int]) throws(Errno) {
        let mask = nodes.reduce(UInt(0)) { $0 | (1 << UInt($1)) }
        let mode: Int32
        switch policy {
        case .preferred: mode = cshims_MPOL_PREFERRED
        case .bind: mode = cshims_MPOL_BIND
        case .interleave: mode = cshims_MPOL_INTERLEAVE
        }
        try check(cshims_mbind(UnsafeMutableRawPointer(bitPattern: address), UInt(length), mode, mask))
    }

    public static func uname() -> (release: String, machine: String) {
        var u = utsname()
        Glibc.uname(&u)
        func str<T>(_ t: T) -> String {
            withUnsafeBytes(of: t) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return (str(u.release), str(u.machine))
    }

    // MARK: mounts, files, locks

    /// Arms userfaultfd write-protect over a range; the descriptor keeps it.
    static func armUffdWriteProtect(address: UInt, length: Int) throws(Errno) -> FileDescriptor {
        let fd = cshims_uffd_wp_arm(UnsafeMutableRawPointer(bitPattern: address), length)
        if fd < 0 { throw lastErrno() }
        return FileDescriptor(rawValue: fd)
    }

    static func swapon(_ path: String) throws(Errno) { try check(cshims_swapon(path)) }
    static func swapoff(_ path: String) throws(Errno) { try check(cshims_swapoff(path)) }

    static func fallocate(_ fd: FileDescriptor, size: Int64) throws(Errno) {
        let rc = posix_fallocate(fd.rawValue, 0, off_t(size))
        if rc != 0 { throw Errno(rawValue: rc) }
    }

    static func mountTmpfs(at path: String, options: String) throws(Errno) {
        try check(cshims_mount_tmpfs(path, options))
    }

    static func mountTracefs(at path: String) throws(Errno) {
        try check(cshims_mount_tracefs(path))
    }

    static func umount(_ path: String, lazy: Bool = false) throws(Errno) {
        try check(cshims_umount(path, lazy ? 1 : 0))
    }

    static func flockExclusive(_ fd: FileDescriptor, nonBlocking: Bool) throws(Errno) {
        try retrying { cshims_flock_exclusive(fd.rawValue, nonBlocking ? 1 : 0) }
    }

    /// mkdtemp(3): a new private directory `prefix` + 6 random characters.
    public static func makeTemporaryDirectory(prefix: String) throws -> String {
        var template = Array((prefix + "XXXXXX").utf8CString)
        let p = template.withUnsafeMutableBufferPointer { Glibc.mkdtemp($0.baseAddress!) }
        guard p != nil else { throw THPLabError.system("cannot create a directory \(prefix)XXXXXX", lastErrno()) }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func mkdir(_ path: String, mode: mode_t = 0o700) throws(Errno) {
        if Glibc.mkdir(path, mode) != 0 && lastErrno() != .fileExists { throw lastErrno() }
    }

    static func fsync(_ fd: FileDescriptor) throws(Errno) { try check(Glibc.fsync(fd.rawValue)) }

    static func rmdir(_ path: String) throws(Errno) { try check(Glibc.rmdir(path)) }
    static func unlink(_ path: String) throws(Errno) { try check(Glibc.unlink(path)) }
    static func rename(_ from: String, _ to: String) throws(Errno) { try check(Glibc.rename(from, to)) }

    public static func isDirectory(_ path: String) -> Bool {
        var st = Glibc.stat()
        return fstatat(AT_FDCWD, path, &st, 0) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether `path` is a regular file (following symlinks).
    public static func isRegularFile(_ path: String) -> Bool {
        var st = Glibc.stat()
        return fstatat(AT_FDCWD, path, &st, 0) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    public static func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }

    public static func setEnvironment(_ name: String, _ value: String) { _ = setenv(name, value, 1) }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isSymlink(_ path: String) -> Bool {
        var st = Glibc.stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    /// The block device a path is (st_rdev) or lives on (st_dev), as major
    /// and minor numbers.
    static func deviceNumbers(_ path: String) -> (UInt32, UInt32)? {
        var st = Glibc.stat()
        guard fstatat(AT_FDCWD, path, &st, 0) == 0 else { return nil }
        let isDevice = (st.st_mode & S_IFMT) == S_IFBLK
        let dev = UInt64(isDevice ? st.st_rdev : st.st_dev)
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))
        let minor = (dev & 0xff) | ((dev >> 12) & ~UInt64(0xff))
        return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
    }

    /// Names in a directory, without `.` and `..`.
    static func listDirectory(_ path: String) throws(Errno) -> [String] {
        guard let dir = opendir(path) else { throw lastErrno() }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The path of this process's own executable (/proc/self/exe).
    public static func ownExecutable() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func realpath(_ path: String) -> String? {
        guard let p = Glibc.realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: strlen(p)), as: UTF8.self)
    }

    /// Reads a gzip file (zlib), at most `limit` bytes of its content.
    static func readGzip(_ path: String, limit: Int) -> String? {
        var buf = [CChar](repeating: 0, count: limit)
        let n = buf.withUnsafeMutableBufferPointer { cshims_read_gzip(path, $0.baseAddress, limit) }
        guard n >= 0 else { return nil }
        return String(decoding: buf[..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static func sleep(milliseconds: Int) {
        var ts = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&ts, &remaining) != 0 && lastErrno() == .interrupted { ts = remaining }
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Bytes of `[start, end)` of a file that hold data, by lseek(2)
    /// SEEK_DATA/SEEK_HOLE (shmem answers from its page cache and swap).
    /// nil when the file does not support them.
    /// The corresponding C function is `lseek`.
    public static func dataBytes(_ fd: FileDescriptor, start: Int64, end: Int64) -> Int64? {
        // SEEK_DATA and SEEK_HOLE are 3 and 4 on Linux; Glibc's module
        // leaves them out without _GNU_SOURCE.
        let seekData: Int32 = 3, seekHole: Int32 = 4
        var pos = start, total: Int64 = 0
        while pos < end {
            let d = lseek(fd.rawValue, off_t(pos), seekData)
            if d < 0 { return errno == ENXIO ? total : (total > 0 ? total : nil) }
            if Int64(d) >= end { break }
            let h = lseek(fd.rawValue, d, seekHole)
            if h < 0 { return nil }
            total += min(Int64(h), end) - Int64(d)
            pos = Int64(h)
        }
        return total
    }

    static func exit(_ code: Int32) -> Never { Glibc.exit(code) }
    static func immediateExit(_ code: Int32) -> Never { Glibc._exit(code) }
}

/// madvise(2) advice values thplab gives.
public enum Advice: Sendable {
    case hugepage, noHugepage, collapse, populateRead, populateWrite, pageout, dontNeed
    var raw: Int32 {
        switch self {
        case .hugepage: return cshims_MADV_HUGEPAGE
        case .noHugepage: return cshims_MADV_NOHUGEPAGE
        case .collapse: return cshims_MADV_COLLAPSE
        case .populateRead: return cshims_MADV_POPULATE_READ
        case .populateWrite: return cshims_MADV_POPULATE_WRITE
        case .pageout: return cshims_MADV_PAGEOUT
        case .dontNeed: return cshims_MADV_DONTNEED
        }
    }
}

/// What the CLI may ask of its own process; `Sys` itself is the library's.
public enum ThisProcess {
    public static var pid: Int32 { Sys.pid }
    /// thplab's own binary, to start again as a worker or for the host run.
    public static func executable() -> String { Sys.ownExecutable() }
    public static func isTerminal(_ fd: Int32) -> Bool { Sys.isTerminal(fd) }
    public static func monotonicNanoseconds() -> UInt64 { Sys.monotonicNanoseconds() }
    /// `uname -r`.
    public static var kernelRelease: String { Sys.uname().release }
    public static func exists(_ path: String) -> Bool { Sys.exists(path) }
}
