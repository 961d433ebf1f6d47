import CShims
import Glibc
import SystemPackage

/// One counter perf_event_open(2) can count, as the kernel's
/// perf_event_attr names it: its type and config.
public struct PerfEvent: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    let type: UInt32
    let config: UInt64

    public var description: String { name }

    // perf_event_attr.type (include/uapi/linux/perf_event.h).
    static let typeSoftware: UInt32 = 1
    static let typeHardwareCache: UInt32 = 3
    static let typeRaw: UInt32 = 4

    /// A hardware-cache event's config: cache id | op << 8 | result << 16.
    static func cacheConfig(cache: UInt64, op: UInt64, result: UInt64) -> UInt64 { cache | op << 8 | result << 16 }

    /// dTLB read misses: the generic event (PERF_COUNT_HW_CACHE_DTLB = 3,
    /// OP_READ = 0, RESULT_MISS = 1), which each CPU's driver maps to its own.
    public static let dtlbLoadMisses = PerfEvent(name: "dTLB-load-misses", type: typeHardwareCache,
                                                 config: cacheConfig(cache: 3, op: 0, result: 1))
    /// Cycles with a page walk for a load in progress on Intel cores:
    /// DTLB_LOAD_MISSES.WALK_ACTIVE (Haswell's WALK_DURATION), umask 0x10,
    /// cmask 1, whose event code is 0x08 up to Skylake and 0x12 from Ice
    /// Lake on (perf's pmu-events tables). There is no generic walk event.
    public static func intelLoadWalkCycles(eventCode: UInt64) -> PerfEvent {
        PerfEvent(name: "dtlb_load_misses.walk_active", type: typeRaw, config: eventCode | 0x10 << 8 | 1 << 24)
    }

    /// Software events, there on every kernel with perf events: page faults
    /// (PERF_COUNT_SW_PAGE_FAULTS = 2) and the task clock (1, in ns).
    public static let pageFaults = PerfEvent(name: "page-faults", type: typeSoftware, config: 2)
    public static let taskClock = PerfEvent(name: "task-clock", type: typeSoftware, config: 1)
}

/// Counters opened as one group for this thread (user space only), counted
/// together around a piece of work and scaled by the time each ran when
/// the CPU had to share its counters. An event the kernel will not open is
/// kept with its errno, not thrown: a missing PMU is a fact to report.
public final class PerfGroup {
    private var fds: [(event: PerfEvent, fd: Int32)] = []
    public private(set) var refused: [(event: PerfEvent, errno: Errno)] = []

    public init(_ events: [PerfEvent]) {
        for e in events {
            let fd = cshims_perf_open(e.type, e.config, fds.first?.fd ?? -1)
            if fd >= 0 { fds.append((e, fd)) } else { refused.append((e, Sys.lastErrno())) }
        }
    }

    deinit { for f in fds { _ = Glibc.close(f.fd) } }

    public var counting: [PerfEvent] { fds.map(\.event) }

    /// Runs `body` with the group counting: each event's count over it,
    /// scaled to the whole time it was enabled (counters the CPU had to
    /// share ran part of it); nil for an event that never ran. Counts are
    /// differences of reads before and after, so a group counts again and again.
    public func count<T>(_ body: () throws -> T) rethrows -> (T, [PerfEvent: Double]) {
        guard let leader = fds.first?.fd else { return (try body(), [:]) }
        let before = fds.map { Self.read($0.fd) }
        for f in fds.dropFirst() { _ = cshims_perf_switch(f.fd, 1) }
        _ = cshims_perf_switch(leader, 1)
        let value = try body()
        _ = cshims_perf_switch(leader, 0)
        for f in fds.dropFirst() { _ = cshims_perf_switch(f.fd, 0) }
        var counts: [PerfEvent: Double] = [:]
        for (i, f) in fds.enumerated() {
            guard let a = before[i], let b = Self.read(f.fd) else { continue }
            let enabled = Double(b.enabled &- a.enabled), running = Double(b.running &- a.running)
            guard running > 0 else { continue }
            counts[f.event] = Double(b.value &- a.value) * (enabled / running)
        }
        return (value, counts)
    }

    private static func read(_ fd: Int32) -> (value: UInt64, enabled: UInt64, running: UInt64)? {
        var out: [UInt64] = [0, 0, 0]
        guard cshims_perf_read(fd, &out) == 0 else { return nil }
        return (out[0], out[1], out[2])
    }
}

extension Sys {
    /// The UAPI header's perf values (types software, hw_cache, raw; the
    /// dTLB read-miss config; page faults; task clock), as C compiled them.
    static func perfABI() -> [UInt64] {
        var out: [UInt64] = Array(repeating: 0, count: 6)
        cshims_perf_abi(&out)
        return out
    }
}
