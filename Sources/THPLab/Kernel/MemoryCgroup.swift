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
    public let version: Version
    private let guardian: HostGuard
    /// v2's `cgroup.subtree_control` where thplab enabled `memory`.
    private let enabled: String?
    private var removed = false

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
        guard let mounts = FileIO.readIfPresent("/proc/mounts"), let (root, version) = Self.locate(mountsText: mounts) else {
            throw THPLabError.unsupported("no memory cgroup controller is mounted (no cgroup v1 hierarchy with memory, no cgroup2 offering it): mount one, e.g. `mount -t cgroup2 none /sys/fs/cgroup`")
        }
        self.guardian = guardian
        self.version = version
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

    /// Sets the hard limit.
    public func limit(bytes: Int64) throws {
        let value = String(bytes)
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

    /// Removes the cgroup (its processes must have exited) and disables the
    /// controller if thplab enabled it.
    public func remove() {
        guard !removed else { return }
        removed = true
        guardian.undo(.directory, path)
        if let enabled { guardian.undo(.controller, enabled) }
    }

    deinit { remove() }

    /// Waits (at most 2 s) until a cgroup directory has no process left: a
    /// worker reaped or killed a moment ago may still be leaving it, and
    /// rmdir fails until it has.
    static func waitUntilEmpty(_ dir: String) {
        let deadline = Sys.monotonicNanoseconds() + 2_000_000_000
        while Sys.monotonicNanoseconds() < deadline, !(FileIO.readIfPresent(dir + "/cgroup.procs") ?? "").isEmpty {
            Sys.sleep(milliseconds: 10)
        }
    }
}
