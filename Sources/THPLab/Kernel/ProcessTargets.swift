/// Which processes a command looks at: `--pid`, `--comm`, `--cgroup`, `--all`.
public enum ProcessTarget: Equatable, Sendable, CustomStringConvertible {
    case pid(Int32)
    /// Every process whose comm is this name (comm is at most 15 bytes:
    /// a longer name matches its first 15).
    case comm(String)
    /// Every process of a cgroup subtree, v1 or v2: a directory under a
    /// cgroup mount, or a path as /proc/PID/cgroup prints it.
    case cgroup(String)
    /// Every process with a memory map (kernel threads are skipped).
    case all

    public var description: String {
        switch self {
        case .pid(let p): return "--pid \(p)"
        case .comm(let c): return "--comm \(c)"
        case .cgroup(let c): return "--cgroup \(c)"
        case .all: return "--all"
        }
    }

    /// Whether the target names processes by a rule rather than one by one
    /// (a command that changes them asks for confirmation).
    public var isWide: Bool {
        if case .pid = self { return false }
        return true
    }
}

/// The processes a set of targets resolved to, each with its cgroup.
public struct ResolvedTargets: Equatable, Sendable {
    public var pids: [Int32]
    /// pid -> cgroup path (the memory controller's hierarchy where it has
    /// one, else the v2 hierarchy), for per-cgroup rollups.
    public var cgroups: [Int32: String]
    /// What was passed over, for the result's notes.
    public var notes: [String]
}

/// Turns targets into processes, reading /proc and the cgroup mounts.
/// Paths are parameters so tests point them at fixture trees.
public enum ProcessTargets {
    /// PF_KTHREAD in /proc/PID/stat's flags field.
    static let kernelThreadFlag: UInt = 0x0020_0000

    public static func resolve(_ targets: [ProcessTarget], selfPid: Int32 = ThisProcess.pid, procRoot: String = "/proc",
                               mounts: String? = nil) throws -> ResolvedTargets {
        var pids: [Int32] = []
        var notes: [String] = []
        var seen = Set<Int32>()
        func add(_ p: Int32) { if seen.insert(p).inserted { pids.append(p) } }
        // Only a cgroup target needs the mount table.
        lazy var mountText = mounts ?? FileIO.readIfPresent("\(procRoot)/mounts") ?? ""
        for target in targets {
            switch target {
            case .pid(let p):
                add(p)
            case .comm(let name):
                let matches = userProcesses(procRoot: procRoot, selfPid: selfPid).filter { comm(of: $0, procRoot: procRoot) == commKey(name) }
                if matches.isEmpty {
                    throw THPLabError.usage("--comm \(name) matches no process (comm is the program name as `ps -e -o comm` shows it, cut to 15 characters)")
                }
                matches.forEach(add)
            case .cgroup(let path):
                let dir = try cgroupDirectory(path, mounts: mountText)
                let found = cgroupProcs(dir)
                if found.isEmpty { notes.append("cgroup \(dir) holds no process") }
                found.filter { $0 != selfPid && !isKernelThread($0, procRoot: procRoot) }.forEach(add)
            case .all:
                userProcesses(procRoot: procRoot, selfPid: selfPid).forEach(add)
            }
        }
        let cgroups = Dictionary(uniqueKeysWithValues: pids.map { p in
            (p, FileIO.readIfPresent("\(procRoot)/\(p)/cgroup").flatMap(CgroupFile.memoryPath) ?? "?")
        })
        return ResolvedTargets(pids: pids, cgroups: cgroups, notes: notes)
    }

    /// comm as the kernel stores it: at most 15 bytes.
    static func commKey(_ name: String) -> String { String(decoding: Array(name.utf8.prefix(15)), as: UTF8.self) }

    static func comm(of pid: Int32, procRoot: String) -> String? {
        FileIO.readIfPresent("\(procRoot)/\(pid)/comm")?.trimmingWhitespace()
    }

    /// Every numeric entry of /proc that is not a kernel thread, nor thplab.
    static func userProcesses(procRoot: String, selfPid: Int32) -> [Int32] {
        let names = (try? Sys.listDirectory(procRoot)) ?? []
        return names.compactMap { Int32($0) }.sorted()
            .filter { $0 != selfPid && !isKernelThread($0, procRoot: procRoot) }
    }

    /// From /proc/PID/stat: the flags field (the 9th) holds PF_KTHREAD. A
    /// process that is gone is not a kernel thread (its absence is noted
    /// later, when it is read).
    static func isKernelThread(_ pid: Int32, procRoot: String) -> Bool {
        guard let stat = FileIO.readIfPresent("\(procRoot)/\(pid)/stat") else { return false }
        return StatFile.flags(stat).map { $0 & kernelThreadFlag != 0 } ?? false
    }

    /// The cgroup directory a `--cgroup` argument names: a directory with a
    /// `cgroup.procs` file, given as such or relative to a cgroup mount.
    static func cgroupDirectory(_ path: String, mounts: String) throws -> String {
        func isCgroup(_ d: String) -> Bool { Sys.exists(d + "/cgroup.procs") }
        if path.hasPrefix("/"), isCgroup(path), MountTable.cgroupMounts(mounts).contains(where: { path.hasPrefix($0) }) { return path }
        let relative = path.hasPrefix("/") ? path : "/" + path
        let candidates = MountTable.cgroupMounts(mounts).map { $0 + (relative == "/" ? "" : relative) }.filter(isCgroup)
        if let first = candidates.first { return first }
        if Sys.exists(path) {
            throw THPLabError.usage("--cgroup \(path) is not a cgroup: it has no cgroup.procs (cgroup mounts here: \(MountTable.cgroupMounts(mounts).joined(separator: ", ")))")
        }
        throw THPLabError.usage("--cgroup \(path): no such cgroup under any cgroup mount (\(MountTable.cgroupMounts(mounts).joined(separator: ", "))); give a directory such as /sys/fs/cgroup/memory/NAME or a path as /proc/PID/cgroup prints it")
    }

    /// Every process of a cgroup and its descendants (cgroup.procs of each).
    static func cgroupProcs(_ dir: String) -> [Int32] {
        var out = (FileIO.readIfPresent(dir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
        for name in ((try? Sys.listDirectory(dir)) ?? []).sorted() where Sys.exists("\(dir)/\(name)/cgroup.procs") {
            out += cgroupProcs("\(dir)/\(name)")
        }
        return out
    }
}

/// /proc/PID/stat: `pid (comm) state ppid ...`; comm may hold spaces and
/// parentheses, so fields are counted from the last `)`.
public enum StatFile {
    public static func flags(_ text: String) -> UInt? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After comm: state(3) ppid pgrp session tty_nr tpgid flags(9).
        return fields.count > 6 ? UInt(fields[6]) : nil
    }

    public static func parentPid(_ text: String) -> Int32? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Every live descendant of `pid` (children first), from /proc.
    public static func descendants(of pid: Int32, proc: ProcFS = .host) -> [Int32] {
        var parent: [Int32: Int32] = [:]
        for name in (try? Sys.listDirectory("/proc")) ?? [] {
            if let p = Int32(name), let text = proc.read(p, "stat"), let pp = parentPid(text) { parent[p] = pp }
        }
        var out: [Int32] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            let children = parent.filter { $0.value == next }.map(\.key).sorted()
            out += children
            frontier += children
        }
        return out
    }
}

/// /proc/PID/cgroup: `id:controllers:path` lines.
public enum CgroupFile {
    /// The path in the memory controller's hierarchy (v1 `N:memory:/x` or
    /// a v2 `0::/x` when no v1 hierarchy has memory).
    public static func memoryPath(_ text: String) -> String? {
        var v2: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains("memory") { return String(parts[2]) }
            if parts[0] == "0" && parts[1].isEmpty { v2 = String(parts[2]) }
        }
        return v2
    }
}
