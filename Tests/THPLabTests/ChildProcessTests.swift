import Glibc
import SystemPackage
import Testing
@testable import THPLab

/// The programs thplab starts (vng, qemu's KVM probe, `collapse --measure`):
/// a process group of their own, and their end as the kernel reported it.
@Suite struct ChildProcessTests {
    func devNull() throws -> FileDescriptor { try FileDescriptor.open("/dev/null", .writeOnly, options: .closeOnExec) }

    @Test func leadsAProcessGroupOfItsOwnAndKeepsItsExitCode() throws {
        let null = try devNull()
        defer { try? null.close() }
        let p = try ChildProcess(path: "/bin/sh", arguments: ["-c", "exit 7"], output: null, errors: null)
        // Until it is reaped the process (a zombie at worst) still has its group.
        #expect(getpgid(p.pid) == p.pid)
        #expect(getpgid(p.pid) != getpgrp())
        #expect(p.wait() == .exited(7))
        #expect(p.terminationStatus == 7)
        #expect(!p.isRunning)
    }

    @Test func aKilledChildReportsItsSignal() throws {
        let null = try devNull()
        defer { try? null.close() }
        let p = try ChildProcess(path: "/bin/sleep", arguments: ["30"], output: null, errors: null)
        #expect(p.isRunning)
        Sys.kill(p.pid, Sys.SIGKILL)
        #expect(p.wait() == .signaled(Sys.SIGKILL))
        #expect(p.terminationStatus == Sys.SIGKILL)
    }

    @Test func aProgramThatIsNotThereIsAnErrorNamingIt() throws {
        let null = try devNull()
        defer { try? null.close() }
        #expect {
            _ = try ChildProcess(path: "/nonexistent/thplab-no-such-program", arguments: [], output: null, errors: null)
        } throws: { error in
            "\(error)".contains("/nonexistent/thplab-no-such-program")
        }
    }
}
