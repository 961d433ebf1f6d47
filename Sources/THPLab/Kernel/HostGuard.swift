import Glibc
import Dispatch
import FoundationEssentials
import SystemPackage

/// Keeps the promise that thplab leaves the host as it found it. One guard
/// per process that changes anything: it holds the lock against a second
/// thplab, journals every change on disk before making it, and undoes them
/// all on release, on SIGINT/SIGTERM/SIGHUP, and (through the journal) at
/// the next start after a SIGKILL.
public final class HostGuard: @unchecked Sendable {
    public let stateDir: String
    public let sysfs: THPSysfs
    /// nil when an ancestor thplab holds the lock for us (`knobs set -- thplab ...`).
    private let lockFD: FileDescriptor?
    private let mutex = Lock()
    private var journal: HostJournal
    private var workers: Set<Int32> = []
    /// Workers that are a user's command (`knobs set -- COMMAND`): they get
    /// SIGTERM and time to put back their own changes before SIGKILL.
    private var commands: Set<Int32> = []
    private var released = false
    private var signalSources: [DispatchSourceSignal] = []

    /// Where the lock and journal live: $THPLAB_STATE_DIR or /run/thplab
    /// (a tmpfs: like the knobs themselves, it does not survive a reboot).
    public static var defaultStateDir: String {
        ProcessInfo.processInfo.environment["THPLAB_STATE_DIR"] ?? "/run/thplab"
    }

    /// This process's journal; each thplab has its own, so a thplab run by
    /// `knobs set -- COMMAND` journals beside its parent.
    public var journalPath: String { stateDir + "/journal-\(Sys.pid).json" }

    /// The environment variable through which `knobs set -- COMMAND` tells a
    /// thplab it starts that its parent holds the lock.
    public static let lockHolderVariable = "THPLAB_LOCK_HOLDER"

    /// Journals of thplab processes that no longer run (pid not alive, or
    /// reused by another program), plus an older thplab's `journal.json`.
    /// A killed run's half-written journal (`journal-PID.json.tmp`, cut
    /// off between the write and the rename) counts too: a change is
    /// journaled before it is made, so what it was about to record had not
    /// been done yet, and it is only removed.
    public static func staleJournals(stateDir: String) -> [String] {
        let names = (try? Sys.listDirectory(stateDir)) ?? []
        return names.filter { name in
            if name == "journal.json" { return true }
            let base = name.hasSuffix(".tmp") ? name.dropLast(4) : Substring(name)
            guard base.hasPrefix("journal-"), base.hasSuffix(".json"),
                  let pid = Int32(base.dropFirst(8).dropLast(5)) else { return false }
            return !isThplab(pid)
        }.sorted().map { stateDir + "/" + $0 }
    }

    /// Whether `pid` is a live thplab process.
    public static func isThplab(_ pid: Int32) -> Bool {
        guard let cmd = try? FileIO.readBytes("/proc/\(pid)/cmdline", limit: 4096), !cmd.isEmpty else { return false }
        let argv0 = String(decoding: cmd.prefix { $0 != 0 }, as: UTF8.self)
        return argv0.hasSuffix("thplab")
    }

    /// Live thplab processes that run under the lock of `pid` (their
    /// THPLAB_LOCK_HOLDER names it): a `knobs set -- COMMAND`'s thplab.
    static func nestedThplabs(under pid: Int32) -> [Int32] {
        let marker = Array("\(lockHolderVariable)=\(pid)".utf8)
        return ((try? Sys.listDirectory("/proc")) ?? []).compactMap { Int32($0) }.filter { p in
            guard p != Sys.pid, isThplab(p), let env = try? FileIO.readBytes("/proc/\(p)/environ", limit: 1 << 20) else { return false }
            return env.split(separator: 0).contains { Array($0) == marker }
        }
    }

    /// Whether `pid` is this process's parent, grandparent, ...
    static func isAncestor(_ pid: Int32) -> Bool {
        var p = Sys.parentPid
        for _ in 0..<64 where p > 1 {
            if p == pid { return true }
            guard let pp = FileIO.readIfPresent("/proc/\(p)/stat").flatMap(StatFile.parentPid) else { return false }
            p = pp
        }
        return false
    }

    /// Originals of the knobs `thplab knobs set` / `load` changed for good:
    /// kept across runs (a run's own journal is separate), undone only by
    /// `thplab knobs restore`.
    public var persistentPath: String { stateDir + "/knobs-set.json" }

    /// Takes the lock (waiting at most `waitSeconds`), undoes what a killed
    /// run left in its journal, and installs the signal handlers.
    /// - Parameter log: receives one line per thing worth telling the user.
    public static func acquire(command: String, stateDir: String = HostGuard.defaultStateDir,
                               sysfs: THPSysfs = THPSysfs(), waitSeconds: Int = 60,
                               log: @escaping (String) -> Void) throws -> HostGuard {
        if case .failure(let e) = Sys.result({ try Sys.mkdir(stateDir) }) {
            throw THPLabError.system("cannot create the state directory \(stateDir)", e)
        }
        let lockPath = stateDir + "/lock"
        if let holder = ProcessInfo.processInfo.environment[lockHolderVariable].flatMap({ Int32($0) }),
           isAncestor(holder), isThplab(holder) {
            // `thplab knobs set ... -- thplab run ...`: the parent holds the
            // lock and keeps its own journal; this one journals beside it.
            let guardian = HostGuard(stateDir: stateDir, sysfs: sysfs, lockFD: nil,
                                     journal: HostJournal(pid: Sys.pid, command: command))
            try guardian.undoStaleJournals(log: log)
            guardian.installSignalHandlers(log: log)
            return guardian
        }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(lockPath), .readWrite, options: [.create, .closeOnExec],
                                         permissions: [.ownerReadWrite])
        } catch let e as Errno {
            throw THPLabError.system("cannot open the lock file \(lockPath) (thplab keeps its lock and the journal of every change there, and changes nothing without them; point THPLAB_STATE_DIR at a writable directory)", e)
        }
        if case .failure = Sys.result({ try Sys.flockExclusive(fd, nonBlocking: true) }) {
            let holder = (try? FileIO.read(lockPath, limit: 64))?.trimmingWhitespace() ?? "?"
            log("another thplab (pid \(holder)) is running; waiting up to \(waitSeconds) s for it to finish")
            let deadline = Sys.monotonicNanoseconds() + UInt64(waitSeconds) * 1_000_000_000
            var locked = false
            while Sys.monotonicNanoseconds() < deadline {
                Sys.sleep(milliseconds: 100)
                if case .success = Sys.result({ try Sys.flockExclusive(fd, nonBlocking: true) }) { locked = true; break }
            }
            if !locked {
                try? fd.close()
                throw THPLabError.unsupported("another thplab (pid \(holder)) still holds \(lockPath) after \(waitSeconds) s; wait for it or stop it")
            }
        }
        _ = try? fd.resize(to: 0)
        _ = try? fd.writeAll(toAbsoluteOffset: 0, Array("\(Sys.pid)\n".utf8))

        let guardian = HostGuard(stateDir: stateDir, sysfs: sysfs, lockFD: fd,
                                 journal: HostJournal(pid: Sys.pid, command: command))
        try guardian.undoStaleJournals(log: log)
        guardian.installSignalHandlers(log: log)
        return guardian
    }

    /// Undoes, newest first, what killed thplab runs left behind.
    private func undoStaleJournals(log: (String) -> Void) throws {
        for path in Self.staleJournals(stateDir: stateDir).reversed() {
            if path.hasSuffix(".tmp") {
                _ = try? Sys.unlink(path)
                log("removed \(path), a journal write a killed run did not finish (the change it was to record was never made)")
                continue
            }
            guard let stale = try HostJournal.load(path) else { continue }
            // A killed `knobs set -- thplab run ...`: its command got SIGTERM
            // (PR_SET_PDEATHSIG) and is putting back its own changes, which
            // it journaled on top of the dead one's. Undoing the dead one's
            // first would let the command's undo set its knobs again.
            let nested = Self.nestedThplabs(under: stale.pid)
            if !nested.isEmpty {
                log("waiting up to 20 s for thplab pid(s) \(nested.map(String.init).joined(separator: ", ")), started under the interrupted pid \(stale.pid), to put back their own changes")
                let deadline = Sys.monotonicNanoseconds() + 20_000_000_000
                while !Self.nestedThplabs(under: stale.pid).isEmpty && Sys.monotonicNanoseconds() < deadline { Sys.sleep(milliseconds: 20) }
            }
            log("found the journal of an interrupted thplab run (pid \(stale.pid), `\(stale.command)`); putting the host back:")
            let steps = stale.undo(sysfs: sysfs)
            for step in steps { log("  \(step)") }
            // A step that failed stays journaled: the next start tries again.
            if steps.contains(where: \.failed) {
                log("  kept \(path): the next thplab start tries the failed step(s) again")
            } else {
                _ = try? Sys.unlink(path)
            }
        }
        // An instance that no journal named and whose pid is gone: once
        // seen on the CI host with no journal left, it failed every later
        // kernel test's check of the host; it is removed as a journal's is.
        for instance in Leftovers.deadPidInstances() {
            guard let step = HostJournal.undo(HostJournal.Resource(kind: .directory, path: instance)) else { continue }
            log("found a tracefs instance of a thplab run that no longer runs and named it in no journal: \(step)")
        }
    }

    private init(stateDir: String, sysfs: THPSysfs, lockFD: FileDescriptor?, journal: HostJournal) {
        self.stateDir = stateDir
        self.sysfs = sysfs
        self.lockFD = lockFD
        self.journal = journal
    }

    /// Sets a knob, journaling its original value on disk first (only the
    /// first change of a knob is journaled: that is the value to go back to).
    /// - Returns: the value before and after.
    @discardableResult
    public func setKnob(_ name: String, _ value: String) throws -> (old: String, new: String) {
        try sysfs.validate(name: name, value: value)
        // Under the lock, so that a signal's release() either comes before
        // (and this refuses) or after the write (and undoes it).
        return try withLock {
            try checkNotReleased()
            let old = try sysfs.read(name).current
            if old == value { return (old, value) }
            if !journal.knobs.contains(where: { $0.name == name }) {
                journal.knobs.append(.init(name: name, original: old))
                try journal.save(journalPath)
            }
            try sysfs.write(name: name, value: value)
            return (old, value)
        }
    }

    /// Sets knobs for good (`knobs set`, `knobs load`): each knob's first
    /// original is kept in the persistent journal, on disk before the write.
    /// Returns (name, old, new) per knob.
    public func setPersistently(_ requests: [KnobRequest]) throws -> [(name: String, old: String, new: String)] {
        try withLock {
            try checkNotReleased()
            var persistent = try HostJournal.load(persistentPath) ?? HostJournal(pid: 0, command: "knobs set")
            var out: [(String, String, String)] = []
            for r in requests {
                try sysfs.validate(name: r.name, value: r.value)
                let old = try sysfs.read(r.name).current
                if old != r.value && !persistent.knobs.contains(where: { $0.name == r.name }) {
                    persistent.knobs.append(.init(name: r.name, original: old))
                    try persistent.save(persistentPath)
                }
                if old != r.value { try sysfs.write(name: r.name, value: r.value) }
                out.append((r.name, old, r.value))
            }
            return out
        }
    }

    /// The knobs `knobs set`/`load` changed and their originals.
    public func persistentChanges() -> [HostJournal.Knob] {
        ((try? HostJournal.load(persistentPath)) ?? nil)?.knobs ?? []
    }

    /// Puts back every knob `knobs set`/`load` changed.
    public func restorePersistent() -> [CleanupStep] {
        withLock {
            guard let p = (try? HostJournal.load(persistentPath)) ?? nil else { return [] }
            let lines = p.undo(sysfs: sysfs)
            if !lines.contains(where: \.failed) { _ = try? Sys.unlink(persistentPath) }
            return lines
        }
    }

    /// Puts every knob this guard changed back to its original now, keeping
    /// the journal (a sweep between points). Returns what it did.
    @discardableResult
    public func restoreKnobsNow() -> [CleanupStep] {
        withLock {
            var knobsOnly = journal
            knobsOnly.resources = []
            return knobsOnly.undo(sysfs: sysfs)
        }
    }

    /// Makes a mount, file or directory with `make`, journaled first so a
    /// killed run's leftover is undone by the next start. Journal and action
    /// happen under the lock, so a signal's release() sees either nothing or
    /// the finished resource. If `make` throws, the entry is dropped again.
    public func create<T>(_ kind: HostJournal.Resource.Kind, _ path: String, _ make: () throws -> T) throws -> T {
        try withLock {
            try checkNotReleased()
            let r = HostJournal.Resource(kind: kind, path: path)
            journal.resources.append(r)
            try journal.save(journalPath)
            do {
                return try make()
            } catch {
                journal.resources.removeAll { $0 == r }
                // After release() the journal is gone: writing it again
                // would leave one behind (or half of one at the exit).
                if !released { try? journal.save(journalPath) }
                throw error
            }
        }
    }

    private func checkNotReleased() throws {
        if released { throw THPLabError(.system, "thplab is stopping; nothing more is changed") }
    }

    /// Undoes one resource now (if still there) and forgets it.
    public func undo(_ kind: HostJournal.Resource.Kind, _ path: String) {
        withLock {
            let r = HostJournal.Resource(kind: kind, path: path)
            guard journal.resources.contains(r) else { return }
            // Journaled until undone: a failed step is tried again at release
            // and, if it fails there too, by the next start.
            guard !released, HostJournal.undo(r)?.failed != true else { return }
            journal.resources.removeAll { $0 == r }
            try? journal.save(journalPath)
        }
    }

    /// - Parameter command: a user's command rather than thplab's own worker.
    public func addWorker(_ pid: Int32, command: Bool = false) {
        withLock { _ = workers.insert(pid); if command { _ = commands.insert(pid) } }
    }
    public func removeWorker(_ pid: Int32) { withLock { _ = workers.remove(pid); _ = commands.remove(pid) } }

    private func withLock<T>(_ body: () throws -> T) rethrows -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body()
    }

    /// Kills and reaps workers, undoes every change, removes the journal and
    /// drops the lock. Safe to call more than once and from a signal handler
    /// thread. Returns what it did.
    @discardableResult
    public func release() -> [CleanupStep] {
        mutex.lock()
        defer { mutex.unlock() }
        if released { return [] }
        released = true
        // thplab's own workers die at once. A command of `knobs set --` (a
        // thplab run among them) gets SIGTERM and up to 15 s to put back its
        // own changes, then SIGKILL: the next start undoes what its journal
        // still holds.
        for pid in workers.subtracting(commands) {
            Sys.kill(pid, Sys.SIGKILL)
            _ = try? Sys.waitpid(pid, block: true)
        }
        for pid in commands { Sys.kill(pid, Sys.SIGTERM) }
        let deadline = Sys.monotonicNanoseconds() + 15_000_000_000
        var left = commands
        while !left.isEmpty {
            left = left.filter { pid in
                // nil: still running; ECHILD: reaped by the thread that waits for it.
                if case .success(nil) = Sys.result({ try Sys.waitpid(pid, block: false) }) { return true }
                return false
            }
            if left.isEmpty { break }
            if Sys.monotonicNanoseconds() >= deadline {
                for pid in left { Sys.kill(pid, Sys.SIGKILL); _ = try? Sys.waitpid(pid, block: true) }
                break
            }
            Sys.sleep(milliseconds: 10)
        }
        commands.removeAll()
        workers.removeAll()
        let log = journal.undo(sysfs: sysfs)
        // What could not be undone stays in the journal for the next start.
        if !log.contains(where: \.failed) { _ = try? Sys.unlink(journalPath) }
        try? lockFD?.close()
        return log
    }

    /// The signal whose handler is putting the host back, process-wide.
    private static let interruption = Locked<Int32?>(nil)

    /// For a thread whose work a signal's release() ended (a worker the
    /// handler killed, a step refused because thplab is stopping): waits
    /// for the handler, which says what it put back and exits with 128 +
    /// the signal, rather than racing it to the exit with another status
    /// while the undo is still under way. Returns at once when no signal came.
    public static func waitIfInterrupted() {
        guard interruption.get() != nil else { return }
        Sys.sleep(milliseconds: 15_000)
    }

    private func installSignalHandlers(log: @escaping (String) -> Void) {
        // release() kills the workers while the main thread may still be
        // writing to them: SIGPIPE would end thplab halfway through its
        // undo (seen: exit by SIGPIPE, journal, swap file and cgroup left,
        // with SIGTERM in the first second of run mthp). A write to a dead
        // worker fails with EPIPE instead.
        Sys.ignoreSignal(SIGPIPE)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            Sys.ignoreSignal(sig)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                HostGuard.interruption.set(sig)
                let lines = self?.release() ?? []
                log(lines.contains(where: \.failed)
                    ? "thplab: interrupted by signal \(sig); the host was put back except what failed below, which the next thplab start tries again"
                    : "thplab: interrupted by signal \(sig); the host was put back as it was")
                for line in lines { log("  \(line)") }
                Sys.immediateExit(128 + sig)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}
