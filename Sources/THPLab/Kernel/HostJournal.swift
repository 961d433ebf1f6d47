import FoundationEssentials

/// What a run changed on the host, kept on disk before each change so that a
/// run killed with SIGKILL can be undone by the next one: the original value
/// of every knob it wrote, and the mounts, files and directories it made.
public struct HostJournal: Codable, Equatable, Sendable {
    public struct Knob: Codable, Equatable, Sendable {
        public var name: String
        public var original: String
    }

    /// Something thplab made, undone in reverse order of making: a file in
    /// a tmpfs goes before the unmount, a tracefs instance before the
    /// unmount of tracefs, the unmount before the removal of the mount point.
    public struct Resource: Codable, Equatable, Sendable {
        /// `zram`: a zram device thplab sized (reset on undo); `module`: a
        /// module thplab loaded (unloaded on undo); `controller`: a cgroup v2
        /// `cgroup.subtree_control` thplab added `memory` to (removed on undo).
        public enum Kind: String, Codable, Sendable { case mount, file, directory, swap, zram, module, controller }
        public var kind: Kind
        public var path: String
    }

    public var version = 1
    public var pid: Int32
    public var command: String
    public var knobs: [Knob] = []
    public var resources: [Resource] = []

    public var isEmpty: Bool { knobs.isEmpty && resources.isEmpty }

    /// Knobs thplab has changed and not yet put back: by `knobs set`/`load`,
    /// or by a run in progress or interrupted.
    public static func changedKnobs(stateDir: String) -> [Knob] {
        let journals = ((try? Sys.listDirectory(stateDir)) ?? []).filter { $0.hasPrefix("journal") }.sorted()
        return (["knobs-set.json"] + journals).flatMap { ((try? load(stateDir + "/" + $0)) ?? nil)?.knobs ?? [] }
    }

    public static func load(_ path: String) throws -> HostJournal? {
        guard Sys.exists(path) else { return nil }
        let bytes = try FileIO.readBytes(path, limit: 1 << 20)
        do {
            return try JSONDecoder().decode(HostJournal.self, from: Data(bytes))
        } catch {
            throw THPLabError(.system, "the journal \(path) is unreadable (\(error)); inspect it, restore the knobs by hand (`thplab doctor` shows them) and delete it")
        }
    }

    /// Writes the journal; thplab changes nothing it could not journal
    /// first, so a failure here (a full or read-only state directory)
    /// stops the change with a message that says so.
    public func save(_ path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try FileIO.writeAtomically(path, Array(try enc.encode(self)), permissions: [.ownerReadWrite])
        } catch let e as THPLabError {
            let dir = path.split(separator: "/").dropLast().joined(separator: "/")
            throw THPLabError(.unsupported, "cannot write the journal \(path) (\(e.errno.map { "\($0)" } ?? e.message)): thplab changes nothing it cannot journal first, so nothing was changed; free space in /\(dir) or make it writable, or point THPLAB_STATE_DIR at a directory that is")
        }
    }

    /// Puts back everything the journal lists, knobs last-changed first.
    /// Returns one line per action, problems included; never throws, so that
    /// one failure does not stop the rest.
    public func undo(sysfs: THPSysfs) -> [CleanupStep] {
        var log: [CleanupStep] = []
        for knob in knobs.reversed() {
            guard THPSysfs.rule(for: knob.name) != nil, !knob.name.contains("..") else {
                log.append(.done("journal names '\(knob.name)', which is not a THP knob: ignored"))
                continue
            }
            let current = (try? sysfs.read(knob.name).current) ?? "?"
            if current == knob.original { continue }
            switch FileIO.writeExisting(sysfs.path(knob.name), knob.original) {
            case .success: log.append(.done("restored \(knob.name): \(current) -> \(knob.original)"))
            case .failure(let e): log.append(.failed("restore \(knob.name) to \(knob.original): \(e)"))
            }
        }
        for r in resources.reversed() {
            if let line = Self.undo(r) { log.append(line) }
        }
        return log
    }

    /// Removes one resource if it is still there; a line when it did
    /// something worth telling or failed.
    static func undo(_ r: Resource) -> CleanupStep? {
        switch r.kind {
        case .mount:
            switch Sys.result({ try Sys.umount(r.path) }) {
            case .success: return .done("unmounted \(r.path)")
            case .failure(.invalidArgument), .failure(.noSuchFileOrDirectory): return nil  // not mounted
            case .failure:
                if case .failure(let e) = Sys.result({ try Sys.umount(r.path, lazy: true) }) { return .failed("unmount \(r.path): \(e)") }
                return .done("unmounted \(r.path) (lazily: it was busy)")
            }
        case .file:
            guard Sys.exists(r.path) else { return nil }
            if case .failure(let e) = Sys.result({ try Sys.unlink(r.path) }) { return .failed("remove \(r.path): \(e)") }
            return .done("removed \(r.path)")
        case .swap:
            switch Sys.result({ try Sys.swapoff(r.path) }) {
            case .success: return .done("swapoff \(r.path)")
            case .failure(.invalidArgument), .failure(.noSuchFileOrDirectory): return nil  // not active
            case .failure(let e): return .failed("swapoff \(r.path): \(e)")
            }
        case .zram:
            let reset = "/sys/block/" + (r.path.split(separator: "/").last.map(String.init) ?? "") + "/reset"
            guard Sys.exists(reset), FileIO.readIfPresent(reset.replacing("/reset", with: "/disksize"))?.trimmingWhitespace() != "0" else { return nil }
            if case .failure(let e) = FileIO.writeExisting(reset, "1") { return .failed("reset \(r.path): \(e)") }
            return .done("reset \(r.path)")
        case .module:
            guard r.path == "zram", BlockDevices.zramLoaded else { return nil }
            guard case .exited(0)? = try? Sys.runQuietly(BlockDevices.modprobe, ["-r", "zram"], stderrPath: "/dev/null") else { return .failed("modprobe -r zram") }
            return .done("unloaded the zram module")
        case .controller:
            guard r.path.hasSuffix("/cgroup.subtree_control"), MemoryCgroup.words(FileIO.readIfPresent(r.path)).contains("memory") else { return nil }
            if case .failure(let e) = FileIO.writeExisting(r.path, "-memory") { return .failed("disable the memory controller in \(r.path): \(e)") }
            return .done("disabled the memory controller in \(r.path)")
        case .directory:
            guard Sys.exists(r.path) else { return nil }
            let cgroup = Sys.exists(r.path + "/cgroup.procs")
            // Busy for a moment, not for good: a tracefs instance while one
            // of its files is open (a signal's release() races the run's
            // own reads of it: EBUSY seen with SIGTERM 0.4 s into run
            // mthp), a cgroup joined again while it is removed. Empty it
            // and try again while it is busy, for at most 2 s.
            let deadline = Sys.monotonicNanoseconds() + 2_000_000_000
            while true {
                if cgroup { MemoryCgroup.waitUntilEmpty(r.path) }
                switch Sys.result({ try Sys.rmdir(r.path) }) {
                case .success: return .done("removed \(r.path)")
                case .failure(.resourceBusy) where Sys.monotonicNanoseconds() < deadline: Sys.sleep(milliseconds: 20)
                case .failure(let e): return .failed("remove \(r.path): \(e)")
                }
            }
        }
    }
}

/// One thing a clean-up did, or failed to do.
public struct CleanupStep: Equatable, Sendable, CustomStringConvertible {
    public enum Outcome: Sendable { case done, failed }
    public var outcome: Outcome
    /// What was done, or what could not be done and why.
    public var text: String

    public static func done(_ text: String) -> CleanupStep { CleanupStep(outcome: .done, text: text) }
    public static func failed(_ text: String) -> CleanupStep { CleanupStep(outcome: .failed, text: text) }

    public var failed: Bool { outcome == .failed }
    public var description: String { failed ? "FAILED to " + text : text }
}
