/// The host-changing halves of `thplab knobs`: set (for good, or only while
/// a command runs), load, restore. Every change goes through the host guard.
public enum KnobCommands {
    /// Writing sysfs knobs is an administrator's act: thplab asks for
    /// CAP_SYS_ADMIN in the effective set (libcap) before writing anything.
    public static func checkCanWrite() throws {
        switch Sys.result({ try Sys.hasEffectiveSysAdmin() }) {
        case .success(true): return
        case .success(false):
            throw THPLabError.unsupported("changing THP knobs needs CAP_SYS_ADMIN, which this process does not have (run as root)")
        case .failure(let e):
            throw THPLabError.system("libcap could not read this process's capabilities", e)
        }
    }

    /// Sets knobs until `thplab knobs restore`.
    public static func setForGood(_ requests: [KnobRequest], log: @escaping (String) -> Void) throws -> [(name: String, old: String, new: String)] {
        try checkCanWrite()
        let guardian = try HostGuard.acquire(command: "knobs set", log: log)
        defer { guardian.release() }
        return try guardian.setPersistently(requests)
    }

    /// Sets knobs, runs `command`, and puts them back however it ends.
    /// - Returns: the exit code to leave with (the command's, 128+signal if
    ///   it was killed by one).
    public static func setWhile(_ requests: [KnobRequest], command: [String], log: @escaping (String) -> Void) throws -> Int32 {
        try checkCanWrite()
        let guardian = try HostGuard.acquire(command: "knobs set -- \(command.joined(separator: " "))", log: log)
        do {
            for r in requests {
                let (old, new) = try guardian.setKnob(r.name, r.value)
                log("\(r.name): \(old) -> \(new) while the command runs")
            }
            // Through `thplab exec`, so the command gets SIGTERM if thplab
            // itself is killed (PR_SET_PDEATHSIG survives exec).
            // A thplab among the command's processes runs under this lock.
            Sys.setEnvironment(HostGuard.lockHolderVariable, "\(Sys.pid)")
            let pid = try Sys.result { try Sys.spawnCommand([Sys.ownExecutable(), "exec", "--parent", "\(Sys.pid)", "--"] + command) }
                .mapError { THPLabError(.usage, "cannot run \(command[0]): \($0)", errno: $0) }.get()
            // A signal to thplab kills the command and restores the knobs.
            guardian.addWorker(pid, command: true)
            let status = Sys.result { try Sys.waitpid(pid, block: true) }
            // A signal's handler reaped or killed the command: it says what
            // it put back and exits; this thread must not race it.
            HostGuard.waitIfInterrupted()
            let exit = try status.mapError { THPLabError.system("waitpid failed", $0) }.get()
            guardian.removeWorker(pid)
            for step in guardian.release() { log(step.description) }
            switch exit {
            case .exited(let code)?: return code
            case .signaled(let sig)?: return 128 + sig
            case nil: return 1
            }
        } catch {
            for step in guardian.release() { log(step.description) }
            throw error
        }
    }

    /// The body of the hidden `thplab exec`: die with `parent`, then become
    /// `command`. Returns only if that failed: the exit code to leave with
    /// and, when the exec itself failed, what to tell the user.
    public static func execDyingWithParent(parent: Int32, command: [String]) -> (code: Int32, message: String?) {
        _ = try? Sys.setParentDeathSignal(Sys.SIGTERM)
        if Sys.parentPid != parent { return (125, nil) }
        let e = Sys.exec(command)
        return (e == .noSuchFileOrDirectory ? 127 : 126, "cannot run \(command.first ?? ""): \(e)")
    }

    /// Undoes a killed run's journal and every `knobs set`/`load`.
    public static func restore(log: @escaping (String) -> Void) throws -> Bool {
        var said = false
        let guardian = try HostGuard.acquire(command: "knobs restore", log: { log($0); said = true })
        defer { guardian.release() }
        let lines = guardian.restorePersistent()
        for l in lines { log(l.description) }
        return said || !lines.isEmpty
    }
}
