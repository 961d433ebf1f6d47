/// What a thplab that no longer runs left on the host: everything a run
/// makes carries its pid in its name (`thplab-PID...`: tmpfs mounts and
/// their directories, objects in /dev/shm and /var/tmp, swap files, tracefs
/// instances, memory cgroups), so a name whose pid is not a live thplab is
/// a leftover. Workers whose thplab is gone and stale journals count too.
/// `thplab doctor` lists them; after any kill, the next thplab start must
/// leave none.
public enum Leftovers {
    public struct Item: Equatable, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable { case journal, mount, file, swap, tracefsInstance = "tracefs instance", cgroup, worker }
        public var kind: Kind
        public var path: String
        public var description: String { "\(kind.rawValue) \(path)" }
    }

    /// Where to look; the defaults are the host's.
    public struct Places: Sendable {
        public var stateDir = HostGuard.defaultStateDir
        public var mounts = MountTable.path
        public var swaps = "/proc/swaps"
        public var directories = ["/tmp", "/var/tmp", "/dev/shm"]
        public var tracefsRoots = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        public var proc = "/proc"
        public init() {}
    }

    /// The pid in a name thplab gives what it makes (`thplab-PID`,
    /// `.thplab-PID-object`, `thplab-swap-PID`, `thplab-PID-bloat`), or nil
    /// for a name thplab's runs do not make.
    static func ownerPid(_ name: Substring) -> Int32? {
        var rest = name.hasPrefix(".") ? name.dropFirst() : name
        guard rest.hasPrefix("thplab-") else { return nil }
        rest = rest.dropFirst(7)
        if rest.hasPrefix("swap-") { rest = rest.dropFirst(5) }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count < 11, digits.count == rest.count || !(rest[digits.endIndex].isLetter) else { return nil }
        return Int32(digits)
    }

    /// Whether `path`'s last component names a thplab pid that `isLive` denies.
    static func isOrphan(_ path: Substring, isLive: (Int32) -> Bool) -> Bool {
        let name = path.split(separator: "/").last ?? path
        guard let pid = ownerPid(name) else { return false }
        return !isLive(pid)
    }

    /// Everything left over; empty on a clean host.
    public static func find(_ places: Places = Places(), isLive: (Int32) -> Bool = HostGuard.isThplab) -> [Item] {
        // The entries of `dir` that a dead thplab named.
        func orphans(in dir: String, _ kind: Item.Kind) -> [Item] {
            ((try? Sys.listDirectory(dir)) ?? []).sorted().filter { isOrphan(Substring($0), isLive: isLive) }
                .map { Item(kind: kind, path: dir + "/" + $0) }
        }
        var out: [Item] = HostGuard.staleJournals(stateDir: places.stateDir).map { Item(kind: .journal, path: $0) }
        let mountsText = FileIO.readIfPresent(places.mounts) ?? ""
        out += MountTable.parse(mountsText).map(\.target).filter { isOrphan(Substring($0), isLive: isLive) }
            .map { Item(kind: .mount, path: $0) }
        out += places.directories.flatMap { orphans(in: $0, .file) }
        out += ProcFS.swapAreas(FileIO.readIfPresent(places.swaps)).filter { isOrphan(Substring($0), isLive: isLive) }
            .map { Item(kind: .swap, path: $0) }
        out += places.tracefsRoots.flatMap { orphans(in: $0 + "/instances", .tracefsInstance) }
        out += MountTable.cgroupMounts(mountsText).flatMap { orphans(in: $0, .cgroup) }
        out += orphanWorkers(proc: places.proc, isLive: isLive).map { Item(kind: .worker, path: "pid \($0)") }
        return out
    }

    /// Tracefs instances named for a pid that no process has any more
    /// (`thplab-PID`): removed at every start that may change the host,
    /// after the stale journals, which undo their own. A pid still alive
    /// keeps its instance, whatever runs under it (an experiment run in a
    /// test's own process names its instance after that process).
    static func deadPidInstances(roots: [String] = Places().tracefsRoots, proc: String = "/proc") -> [String] {
        roots.flatMap { root in
            ((try? Sys.listDirectory(root + "/instances")) ?? []).sorted().filter { name in
                guard name.hasPrefix("thplab-"), let pid = ownerPid(Substring(name)) else { return false }
                return !Sys.exists("\(proc)/\(pid)")
            }.map { root + "/instances/" + $0 }
        }
    }

    /// `thplab worker` processes whose parent is not a live thplab (they
    /// die with it through PR_SET_PDEATHSIG, so one still here is a bug).
    static func orphanWorkers(proc: String, isLive: (Int32) -> Bool) -> [Int32] {
        ((try? Sys.listDirectory(proc)) ?? []).compactMap { Int32($0) }.filter { pid in
            guard let cmd = try? FileIO.readBytes("\(proc)/\(pid)/cmdline", limit: 4096) else { return false }
            let args = cmd.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard args.count >= 2, args[0].hasSuffix("thplab"), args[1] == "worker",
                  let parent = FileIO.readIfPresent("\(proc)/\(pid)/stat").flatMap(StatFile.parentPid) else { return false }
            return !isLive(parent)
        }.sorted()
    }
}
