import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// thplab on a real program it did not write: Debian's PostgreSQL, whose
/// buffer pool is shared anonymous memory (shmem) mapped by every one of
/// its processes. Started by the test on 127.0.0.1 and used through psql.
@Suite struct RealProgramKernelTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let service = repo + "/scripts/services/postgres"

    /// One throw-away server: its data directory goes when it stops.
    final class Postgres {
        let dir: String
        let port: Int
        var postmaster: Int32 = 0

        /// Starts it with `shmem_enabled` at `shmem` while it starts (thplab
        /// puts the knob back when the start command returns).
        init(shmem: String, buffers: String = "256MB") throws {
            dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-pg-")
            chmod(dir, 0o755)
            port = 55_000 + Int(getpid() % 400)
            let r = try Thplab.run(["knobs", "set", "shmem_enabled=\(shmem)", "--", "/bin/bash", service, "start", dir, "\(port)", buffers], timeout: 120)
            guard r.status == 0 else {
                try? stop()
                throw THPLabError.unsupported("postgres did not start (exit \(r.status)): \(r.stderr)")
            }
            let pidFile = try String(contentsOfFile: dir + "/data/postmaster.pid", encoding: .utf8)
            postmaster = Int32(pidFile.split(separator: "\n").first ?? "") ?? 0
        }

        /// Runs SQL through Debian's psql over TCP; its output lines.
        @discardableResult
        func psql(_ sql: String, timeout: Double = 120) throws -> String {
            let (p, out, err) = try psqlInBackground(sql)
            let r = Thplab.finish(p, out, err, timeout: timeout)
            guard r.status == 0, !r.timedOut else { throw THPLabError.unsupported("psql failed (\(r.status)): \(r.stderr)") }
            return r.stdout
        }

        /// psql in the background; the caller waits for it.
        func psqlInBackground(_ sql: String) throws -> (Process, Pipe, Pipe) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [RealProgramKernelTests.service, "psql", dir, "\(port)", sql]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            return (p, out, err)
        }

        func stop() throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [RealProgramKernelTests.service, "stop", dir]
            try p.run()
            p.waitUntilExit()
        }

        deinit { try? stop() }

        /// The buffer pool: the largest shared anonymous VMA of the postmaster.
        func bufferPool() throws -> (UInt, UInt) {
            let maps = try String(contentsOfFile: "/proc/\(postmaster)/maps", encoding: .utf8)
            let vmas = SmapsParser.parse(maps).filter { $0.name.hasPrefix("/dev/zero") }
            guard let v = vmas.max(by: { $0.end - $0.start < $1.end - $1.start }) else {
                throw THPLabError.unsupported("postgres has no shared anonymous mapping")
            }
            return (v.start, v.end)
        }

        /// Backends (children of the postmaster serving a client).
        func backends() -> [Int32] {
            let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
            return pids.filter { pid in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return false }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
                return fields.count > 1 && Int32(fields[1]) == postmaster && cmd.contains("127.0.0.1")
            }
        }
    }

    static let rows = 400_000

    /// Fills the buffer pool through the client: a table, read into it.
    static func load(_ pg: Postgres) throws {
        try pg.psql("create extension pg_prewarm; create table t as select g as id, repeat('x', 200) as pad from generate_series(1, \(rows)) g; select pg_prewarm('t');")
    }

    static func json(_ args: [String], status expected: Int32? = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try Thplab.run(args + ["--json", "-"], timeout: 120)
        if let expected { #expect(r.status == expected, "\(args): \(r.stderr)", sourceLocation: sourceLocation) }
        return try r.json()
    }

    static func hex(_ v: UInt) -> String { String(v, radix: 16) }

    /// Kills and reaps children spawned with the shim's posix_spawn.
    static func reap(_ pids: [Int32]) {
        for p in pids {
            kill(p, SIGKILL)
            _ = try? Sys.waitpid(p, block: true)
        }
    }

    /// What the explain model says for the buffer pool, for the running
    /// kernel: misaligned when shmem THP was off at mmap time.
    static func poolBlocker(_ explain: [String: Any], pool: (UInt, UInt)) -> [String: Any]? {
        (explain["blockers"] as? [[String: Any]])?.first { b in
            (b["largest"] as? [[String: Any]])?.contains { $0["start"] as? UInt == pool.0 } == true
        }
    }

    /// PostgreSQL started with shmem THP off: explain names the misaligned
    /// pool with its remedy on one screen, and collapse sends nothing.
    static func misalignedPoolIsNamedAndLeftAlone() throws {
        var dataDir = ""
        do {
            let pg = try Postgres(shmem: "never")
            dataDir = pg.dir
            try Self.load(pg)
            let pool = try pg.bufferPool()
            #expect(pool.0 % UInt(2 << 20) != 0, "shmem_enabled=never at mmap time gave an aligned pool")
            let e = try Self.json(["explain", "--pid", "\(pg.postmaster)"])
            let ranked = (e["blockers"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String != "too_small" }
            let first = try #require(ranked.first)
            #expect(first["kind"] as? String == BlockerKind.misaligned.rawValue)
            #expect((first["largest"] as? [[String: Any]])?.first?["start"] as? UInt == pool.0)
            let remedy = first["remedy"] as? [String: Any]
            #expect(remedy?["restart"] as? Bool == true)
            #expect((remedy?["commands"] as? [String])?.first?.hasPrefix("echo advise > /sys/kernel/mm/transparent_hugepage/shmem_enabled") == true)
            // The text names it on one screen.
            let text = try Thplab.run(["explain", "--pid", "\(pg.postmaster)"], timeout: 60)
            #expect(text.stdout.split(separator: "\n").count <= 45)
            #expect(text.stdout.contains("shared memory at an address not congruent"))
            // collapse sends nothing to the kernel and says why, once.
            let c = try Self.json(["collapse", "--pid", "\(pg.postmaster)", "--vma", Self.hex(pool.0)], status: 1)
            #expect((c["attempts"] as? [Any])?.isEmpty == true)
            let skipped = c["skipped"] as? [[String: Any]]
            #expect(skipped?.map { $0["reason"] as? String } == ["misaligned"])
            let plain = try Thplab.run(["collapse", "--pid", "\(pg.postmaster)", "--vma", Self.hex(pool.0)], timeout: 60)
            #expect(plain.stdout.split(separator: "\n").count <= 3, "\(plain.stdout)")
        }
        #expect(!FileManager.default.fileExists(atPath: dataDir), "postgres data left in \(dataDir)")
    }

    /// PMD-mapped kB of the pool in any backend, polled up to 20 s while a
    /// query faults the pool in.
    static func backendPmdKB(_ pg: Postgres, pool: (UInt, UInt)) -> Int {
        var backendPmd = 0
        let deadline = Date().addingTimeInterval(20)
        while backendPmd == 0 && Date() < deadline {
            usleep(200_000)
            for b in pg.backends() {
                guard let s = try? json(["snapshot", "--pid", "\(b)"], status: nil),
                      let v = ((s["processes"] as? [[String: Any]])?.first?["vmas"] as? [[String: Any]])?.first(where: { $0["start"] as? UInt == pool.0 })
                else { continue }
                backendPmd = max(backendPmd, (v["kb"] as? [String: Int])?["pmd"] ?? 0)
            }
        }
        return backendPmd
    }

    @Test func explainNamesTheBlockerAndTheRemedyWorks() throws {
        try #require(KernelGate.available)
        let host = HostSnapshot()
        defer { host.expectRestored() }
        // 1. Started as the host boots (shmem THP off): the pool is misaligned.
        try Self.misalignedPoolIsNamedAndLeftAlone()

        // 2. The remedy: shmem THP possible when it starts, put back after.
        let pg = try Postgres(shmem: "advise")
        #expect(HostState.knobs()["shmem_enabled"] == host.knobs["shmem_enabled"], "the knob was not put back after the start")
        try Self.load(pg)
        let pool = try pg.bufferPool()
        #expect(pool.0 % UInt(2 << 20) == 0, "shmem_enabled=advise at mmap time gave a misaligned pool")
        let e = try Self.json(["explain", "--pid", "\(pg.postmaster)"])
        #expect(Self.poolBlocker(e, pool: pool)?["kind"] as? String != BlockerKind.misaligned.rawValue)
        // A dry run plans and changes nothing.
        let dry = try Self.json(["collapse", "--pid", "\(pg.postmaster)", "--vma", Self.hex(pool.0), "--dry-run"])
        let planned = try #require(dry["planned"] as? Int)
        #expect(planned > 0)
        #expect((dry["attempts"] as? [Any])?.isEmpty == true)
        let c = try Self.json(["collapse", "--pid", "\(pg.postmaster)", "--vma", Self.hex(pool.0)])
        let attempts = c["attempts"] as? [[String: Any]] ?? []
        #expect(attempts.count == planned)
        #expect(attempts.allSatisfy { $0["pmd_mapped_after"] as? Bool == true })
        #expect(c["succeeded"] as? Int == planned)
        let reasons = Set((c["skipped"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String })
        #expect(reasons.isSubset(of: ["not_resident", "already_pmd_mapped"]), "\(reasons)")
        #expect(((c["diff"] as? [String: Any])?["became_huge_kb"] as? Int ?? 0) >= planned * 2048)
        // The program keeps answering, and a backend that faults the pool
        // afterwards maps it with PMDs.
        let reader = try pg.psqlInBackground("select count(*) from t; select pg_prewarm('t'); select pg_sleep(6);")
        let backendPmd = Self.backendPmdKB(pg, pool: pool)
        let answer = Thplab.finish(reader.0, reader.1, reader.2, timeout: 30)
        #expect(answer.status == 0, "\(answer.stderr)")
        #expect(answer.stdout.split(separator: "\n").first == "\(Self.rows)")
        #expect(backendPmd > 0, "a backend that faulted the pool after the collapse mapped no PMD")
        // The object view says so too, over every process of the server.
        let s = try Self.json(["snapshot", "--comm", "postgres", "--objects"])
        let obj = (s["objects"] as? [[String: Any]])?.first { ($0["name"] as? String)?.hasPrefix("/dev/zero") == true }
        #expect((obj?["huge_kb"] as? Int ?? 0) >= planned * 2048)
        try pg.stop()
        #expect(!FileManager.default.fileExists(atPath: pg.dir))
    }

    /// A process that disabled THP with prctl(PR_SET_THP_DISABLE): explain
    /// names it first, and collapse sends nothing.
    @Test func thpDisabledProcessIsNamed() throws {
        try #require(KernelGate.available)
        // Python as the program: prctl (41 = PR_SET_THP_DISABLE), then 16 MiB
        // of anonymous memory written, then wait for stdin to close.
        let script = "import ctypes, sys, time; ctypes.CDLL(None).prctl(41, 1, 0, 0, 0); b = bytearray(16 << 20); print('ready', flush=True); sys.stdin.read()"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script]
        let out = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardInput = input
        try p.run()
        // Closing its stdin ends it.
        defer { try? input.fileHandleForWriting.close(); p.waitUntilExit() }
        _ = out.fileHandleForReading.availableData
        let status = try String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8)
        #expect(ProcStatus.thpEnabled(status) == false)
        let e = try Self.json(["explain", "--pid", "\(p.processIdentifier)"])
        let ranked = (e["blockers"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String != "too_small" }
        #expect(ranked.first?["kind"] as? String == BlockerKind.processDisabled.rawValue)
        #expect(ranked.first?["kb"] as? Int ?? 0 >= 8 << 10)
        #expect(((ranked.first?["remedy"] as? [String: Any])?["action"] as? String)?.contains("PR_SET_THP_DISABLE") == true)
        let c = try Self.json(["collapse", "--pid", "\(p.processIdentifier)"], status: 1)
        #expect((c["attempts"] as? [Any])?.isEmpty == true)
        #expect((c["skipped"] as? [[String: Any]])?.contains { $0["reason"] as? String == "thp_disabled_for_process" } == true)
    }

    /// Processes of a cgroup this test makes, in the v1 memory hierarchy
    /// and in v2.
    @Test func cgroupTargetsWalkTheSubtree() throws {
        try #require(KernelGate.available)
        let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
        let roots = MountTable.cgroupMounts(mounts).filter { m in
            MountTable.parse(mounts).contains { $0.target == m && ($0.type == "cgroup2" || $0.options.contains("memory")) }
        }
        try #require(!roots.isEmpty, "no cgroup mount")
        for root in roots {
            let dir = root + "/thplab-test-\(getpid())"
            try FileManager.default.createDirectory(atPath: dir + "/child", withIntermediateDirectories: true)
            var sleepers: [Int32] = []
            defer {
                Self.reap(sleepers)
                rmdir(dir + "/child")
                rmdir(dir)
            }
            for target in [dir, dir + "/child"] {
                let p = try Sys.spawnCommand(["/bin/sleep", "60"])
                sleepers.append(p)
                try "\(p)\n".write(toFile: target + "/cgroup.procs", atomically: false, encoding: .utf8)
            }
            let s = try Self.json(["snapshot", "--cgroup", dir])
            let pids = Set((s["processes"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int })
            #expect(pids == Set(sleepers.map(Int.init)), "\(root)")
            let rollup = s["rollup"] as? [String: Any]
            #expect((rollup?["total"] as? [String: Any])?["processes"] as? Int == 2)
            let e = try Self.json(["explain", "--cgroup", dir])
            #expect((e["processes"] as? [Any])?.count == 2)
        }
        #expect(try Thplab.run(["snapshot", "--cgroup", "/sys/fs/cgroup/memory/thplab-no-such-\(getpid())"], timeout: 30).status == 2)
        #expect(try Thplab.run(["snapshot", "--cgroup", "/tmp"], timeout: 30).status == 2)
    }

    /// `--all` while processes come and go: never fatal; processes that
    /// exit are named, kernel threads never listed.
    @Test func allSurvivesProcessesThatExit() throws {
        try #require(KernelGate.available)
        var churn: [Int32] = []
        defer { Self.reap(churn) }
        for i in 0..<40 {
            churn.append(try Sys.spawnCommand(["/bin/sleep", String(format: "%.2f", 0.02 * Double(i))]))
        }
        let s = try Self.json(["snapshot", "--all"])
        let procs = s["processes"] as? [[String: Any]] ?? []
        #expect(procs.count > 3)
        #expect(!procs.contains { $0["pid"] as? Int == 2 }, "kthreadd listed")
        #expect(s["rollup"] != nil)
        // A process gone between the listing and the read: named, not fatal.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let gone = try Self.json(["snapshot", "--pid", "\(dead.processIdentifier)", "--pid", "\(getpid())"])
        #expect((gone["processes"] as? [Any])?.count == 1)
        let note = (gone["notes"] as? [String])?.first { $0.contains("could not be read") }
        #expect(note?.contains("\(dead.processIdentifier)") == true)
        // Without root: what could not be read is said, with exit 3.
        let nobody = try Thplab.run(["snapshot", "--all"], timeout: 60, asUser: 65534)
        #expect(nobody.status == 3, "\(nobody.stderr)")
        #expect(nobody.stderr.contains("could be read") && nobody.stderr.contains("root"), "\(nobody.stderr)")
        // Bad targets.
        #expect(try Thplab.run(["explain", "--comm", "thplab-no-such-program"], timeout: 30).status == 2)
        #expect(try Thplab.run(["collapse", "--comm", "sleep"], timeout: 30).status == 2)
        #expect(try Thplab.run(["explain"], timeout: 30).status == 2)
    }
}
}
