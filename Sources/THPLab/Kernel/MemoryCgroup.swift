import SystemPackage

/// A memory cgroup thplab makes for its own worker processes, on whichever
/// memory controller the host offers: v1's hierarchy where one has memory
/// (this lab's host), else v2's. Made and removed through the host guard, so
/// a killed run's cgroup is removed by the next start. A process moved in
/// keeps its earlier charges where they were (neither v1 without
/// move_charge_at_immigrate nor v2 moves them): only what it allocates
/// afterwards counts against the limit.
public final class MemoryCgroup {
    public enum Version: String, Codable, Sendable { case v1, v2 }

    public let path: String
    /// The hierarchy's mount point.
    private let root: String
    public let version: Version
    private let guardian: HostGuard
    /// v2's `cgroup.subtree_control` where thplab enabled `memory`.
    private let enabled: String?
    private var removed = false

    /// The memory controller's hierarchy on this host.
    public static func locateOnHost() -> (root: String, version: Version)? {
        MountTable.hostText.flatMap { locate(mountsText: $0) }
    }

    /// The hierarchy holding the memory controller: v1's where one is
    /// mounted with it, else a v2 mount whose root offers it.
    public static func locate(mountsText: String, controllers: (String) -> String? = FileIO.readIfPresent) -> (root: String, version: Version)? {
        let mounts = MountTable.parse(mountsText)
        if let v1 = mounts.first(where: { $0.type == "cgroup" && $0.options.contains("memory") }) { return (v1.target, .v1) }
        for m in mounts where m.type == "cgroup2" {
            if words(controllers(m.target + "/cgroup.controllers")).contains("memory") { return (m.target, .v2) }
        }
        return nil
    }

    static func words(_ text: String?) -> [String] { (text ?? "").split(whereSeparator: \.isWhitespace).map(String.init) }

    /// Makes `<root>/<name>`; on v2 enables the memory controller for the
    /// root's children first when it is not (journaled, disabled again).
    public init(guardian: HostGuard, name: String) throws {
        guard let (root, version) = Self.locateOnHost() else {
            throw THPLabError.unsupported("no memory cgroup controller is mounted (no cgroup v1 hierarchy with memory, no cgroup2 offering it): mount one, e.g. `mount -t cgroup2 none /sys/fs/cgroup`")
        }
        self.guardian = guardian
        self.version = version
        self.root = root
        path = root + "/" + name
        let subtree = root + "/cgroup.subtree_control"
        if version == .v2 && !Self.words(FileIO.readIfPresent(subtree)).contains("memory") {
            try guardian.create(.controller, subtree) {
                if case .failure(let e) = FileIO.writeExisting(subtree, "+memory") {
                    throw THPLabError.system("cannot enable the memory controller in \(subtree)", e)
                }
            }
            enabled = subtree
        } else {
            enabled = nil
        }
        do {
            try guardian.create(.directory, path) {
                try Sys.result { try Sys.mkdir(path, mode: 0o755) }.mapError { THPLabError.system("cannot create the cgroup \(path)", $0) }.get()
            }
        } catch {
            if let enabled { guardian.undo(.controller, enabled) }
            throw error
        }
    }

    private var limitFile: String { path + (version == .v1 ? "/memory.limit_in_bytes" : "/memory.max") }
    private var usageFile: String { path + (version == .v1 ? "/memory.usage_in_bytes" : "/memory.current") }

    /// Bytes charged to the cgroup now.
    public func usage() throws -> Int64 {
        guard let text = FileIO.readIfPresent(usageFile), let v = Int64(text.trimmingWhitespace()) else {
            throw THPLabError(.system, "cannot read \(usageFile)")
        }
        return v
    }

    /// Sets the hard limit; -1 removes it.
    public func limit(bytes: Int64) throws {
        let value = bytes < 0 && version == .v2 ? "max" : String(bytes)
        if case .failure(let e) = FileIO.writeExisting(limitFile, value) {
            throw THPLabError.system("cannot set \(limitFile) to \(value)", e)
        }
    }

    /// Keeps the cgroup's memory out of swap (v1 `memory.swappiness` 0, v2
    /// `memory.swap.max` 0), so that reclaim under its limit cannot make
    /// room by swapping its processes out.
    public func disableSwap() throws {
        let (file, value) = version == .v1 ? (path + "/memory.swappiness", "0") : (path + "/memory.swap.max", "0")
        guard Sys.exists(file) else { return }  // a kernel without swap accounting
        if case .failure(let e) = FileIO.writeExisting(file, value) {
            throw THPLabError.system("cannot set \(file) to \(value)", e)
        }
    }

    /// Reclaims what the cgroup's processes hold that can be reclaimed (page
    /// cache; anonymous memory too where swap is allowed): v1
    /// `memory.force_empty`, v2 `memory.reclaim` (5.19+). Best effort: the
    /// kernel answers EAGAIN/EBUSY when less could be reclaimed than asked.
    public func reclaim() {
        if version == .v1 {
            _ = FileIO.writeExisting(path + "/memory.force_empty", "0")
        } else if Sys.exists(path + "/memory.reclaim") {
            _ = FileIO.writeExisting(path + "/memory.reclaim", "1G")
        }
    }

    /// Moves a process in; its later allocations are charged here.
    public func add(pid: Int32) throws {
        if case .failure(let e) = FileIO.writeExisting(path + "/cgroup.procs", "\(pid)") {
            throw THPLabError.system("cannot move process \(pid) into \(path)", e)
        }
    }

    /// The cgroup (procs file) thplab itself was in before `join()`.
    private var home: String?

    /// Moves thplab itself in, so that what it faults in from now on is
    /// charged here; `leave()` (or `remove()`) moves it back.
    public func join() throws {
        guard home == nil else { return }
        guard let own = FileIO.readIfPresent("/proc/self/cgroup"), let rel = Self.ownPath(cgroupText: own, version: version) else {
            throw THPLabError(.system, "cannot tell thplab's own \(version.rawValue) memory cgroup from /proc/self/cgroup")
        }
        let procs = root + (rel == "/" ? "" : rel) + "/cgroup.procs"
        try add(pid: Sys.pid)
        home = procs
    }

    /// Moves thplab back where it was before `join()`.
    public func leave() {
        guard let home else { return }
        self.home = nil
        _ = FileIO.writeExisting(home, "\(Sys.pid)")
    }

    /// The path, relative to its hierarchy's root, of the memory cgroup a
    /// /proc/PID/cgroup text names: v1's line listing `memory`, v2's `0::`.
    public static func ownPath(cgroupText: String, version: Version) -> String? {
        for line in cgroupText.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = parts[1].split(separator: ",")
            if version == .v1 ? controllers.contains("memory") : (parts[0] == "0" && parts[1].isEmpty) { return String(parts[2]) }
        }
        return nil
    }

    /// What asking the cgroup to shrink did.
    public struct Pressure: Codable, Equatable, Sendable {
        /// How: "memory.limit_in_bytes lowered to 4 MiB" or "memory.reclaim of 4 MiB".
        public var how: String
        /// The kernel's answer (EBUSY/EAGAIN: less could be reclaimed than asked).
        public var answer: String
        public var usageBeforeKB: Int64
        public var usageAfterKB: Int64

        enum CodingKeys: String, CodingKey { case how, answer, usageBeforeKB = "usage_before_kb", usageAfterKB = "usage_after_kb" }
    }

    /// Memory pressure on this cgroup alone, asking for `fraction` of its
    /// usage back: v1 lowers the hard limit to the rest (the kernel
    /// reclaims, and answers EBUSY if it cannot get there; the limit is set
    /// back to unlimited at once either way), v2 writes memory.reclaim.
    /// Either runs the cgroup's shrinkers, the underused-THP one included.
    public func pressure(fraction: Double = 0.5) throws -> Pressure {
        let before = try usage()
        let ask = Int64(Double(before) * fraction) & ~4095
        let how: String, result: Result<Void, Errno>
        if version == .v1 {
            how = "memory.limit_in_bytes lowered to \(FolioSizes.kB(Int((before - ask) >> 10)))"
            result = FileIO.writeExisting(limitFile, String(before - ask))
            try limit(bytes: -1)
        } else {
            guard Sys.exists(path + "/memory.reclaim") else {
                throw THPLabError.unsupported("this kernel's cgroup v2 has no memory.reclaim (5.19+): thplab cannot press one cgroup alone")
            }
            how = "memory.reclaim of \(FolioSizes.kB(Int(ask >> 10)))"
            result = FileIO.writeExisting(path + "/memory.reclaim", String(ask))
        }
        let answer: String
        switch result {
        case .success: answer = "reclaimed all that was asked"
        case .failure(let e): answer = ErrnoName.of(e) + ": less could be reclaimed than asked"
        }
        return Pressure(how: how, answer: answer, usageBeforeKB: before >> 10, usageAfterKB: try usage() >> 10)
    }

    /// Removes the cgroup (its processes must have exited) and disables the
    /// controller if thplab enabled it.
    public func remove() {
        guard !removed else { return }
        removed = true
        leave()
        guardian.undo(.directory, path)
        if let enabled { guardian.undo(.controller, enabled) }
    }

    deinit { remove() }

    /// Waits (at most 2 s) until a cgroup directory has no process left: a
    /// worker reaped or killed a moment ago may still be leaving it, and
    /// rmdir fails until it has.
    /// thplab itself, if still inside (a signal while it had joined), first
    /// moves to the hierarchy's root, where its cgroup was made.
    static func waitUntilEmpty(_ dir: String) {
        let procs = (FileIO.readIfPresent(dir + "/cgroup.procs") ?? "").split(whereSeparator: \.isWhitespace)
        if procs.contains(Substring("\(Sys.pid)")), let slash = dir.lastIndex(of: "/") {
            _ = FileIO.writeExisting(String(dir[..<slash]) + "/cgroup.procs", "\(Sys.pid)")
        }
        let deadline = Sys.monotonicNanoseconds() + 2_000_000_000
        while Sys.monotonicNanoseconds() < deadline, !(FileIO.readIfPresent(dir + "/cgroup.procs") ?? "").isEmpty {
            Sys.sleep(milliseconds: 10)
        }
    }
}
