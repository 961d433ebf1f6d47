import Foundation
import SystemPackage
import Testing
@testable import THPLab

/// The names the kernel gives things, each known in one place: shmem
/// mappings in /proc/PID/maps, errno values.
@Suite struct KernelNamesTests {
    /// The mapping names of the real smaps fixtures (PostgreSQL's SysV
    /// segment, shared anonymous memory and /dev/shm file; thplab's memfd),
    /// as SnapshotTaker, the explainer and the blockers read them.
    @Test func shmemNamesOfTheFixtures() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
        var names = Set<String>()
        for f in try FileManager.default.contentsOfDirectory(atPath: dir) where f.hasPrefix("smaps-") {
            for e in SmapsParser.parse(try String(contentsOfFile: dir + "/" + f, encoding: .utf8)) { names.insert(e.name) }
        }
        let internalShm = ["/SYSV00f78161 (deleted)", "/dev/zero (deleted)", "/memfd:thplab-6743 (deleted)"]
        for n in internalShm {
            #expect(names.contains(n), "the fixtures hold \(n)")
            #expect(ShmemNames.isInternal(n) && ShmemNames.isShmem(n), "\(n)")
        }
        #expect(names.contains("/dev/shm/PostgreSQL.455729598"))
        #expect(!ShmemNames.isInternal("/dev/shm/PostgreSQL.455729598") && ShmemNames.isShmem("/dev/shm/PostgreSQL.455729598"))
        for n in names where n.hasPrefix("/usr/") || n.isEmpty || n.hasPrefix("[") {
            #expect(!ShmemNames.isShmem(n), "\(n)")
        }
    }

    @Test func errnoNamesAsKernelPeopleReadThem() {
        #expect(ErrnoName.of(.invalidArgument) == ErrnoName.einval && ErrnoName.einval == "EINVAL")
        #expect(ErrnoName.of(.resourceTemporarilyUnavailable) == "EAGAIN")
        // MADV_COLLAPSE through process_madvise on a process that is gone.
        #expect(ErrnoName.of(.noSuchProcess) == "ESRCH")
        #expect(CollapseErrno.meaning(ErrnoName.of(.noSuchProcess)) == "the process is gone")
        #expect(ErrnoName.of(Errno(rawValue: 200)) == "errno 200")
    }
}
