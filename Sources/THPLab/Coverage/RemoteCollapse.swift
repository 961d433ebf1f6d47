/// MADV_COLLAPSE of one extent inside another process.
public struct ExtentAttempt: Codable, Equatable, Sendable {
    public var start: UInt
    public var end: UInt
    /// 0 on success.
    public var errno: Int32
    public var errnoName: String?
    /// What the errno means for MADV_COLLAPSE.
    public var meaning: String

    enum CodingKeys: String, CodingKey { case start, end, errno, errnoName = "errno_name", meaning }
}

public struct CollapseResult: Codable, Sendable {
    public var schemaVersion = 1
    public var kind = "collapse"
    public var kernelRelease: String
    public var pid: Int32
    public var start: UInt
    public var end: UInt
    public var attempts: [ExtentAttempt]
    public var succeeded: Int
    public var refused: Int
    /// The VMAs the range touches, before and after.
    public var diff: ProcessDiff

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", kind, kernelRelease = "kernel_release", pid, start, end, attempts
        case succeeded, refused, diff
    }
}

/// `thplab collapse --pid`: MADV_COLLAPSE extent by extent inside another
/// process through process_madvise(2) (6.1+), with a before/after diff.
public enum RemoteCollapse {
    public enum Target: Sendable {
        case range(UInt, UInt)
        case vma(UInt)
    }

    static let huge = UInt(2 << 20)

    /// The 2 MiB extents to collapse: a range must be aligned and lie inside
    /// VMAs; a VMA gives every whole aligned extent inside it.
    public static func extents(for target: Target, vmas: [SmapsEntry]) throws -> (UInt, UInt) {
        switch target {
        case .range(let s, let e):
            guard s < e else { throw THPLabError.usage("--range \(hex(s))-\(hex(e)) is empty") }
            guard s % huge == 0, e % huge == 0 else {
                throw THPLabError.usage("--range \(hex(s))-\(hex(e)) is not 2 MiB aligned; MADV_COLLAPSE works on whole 2 MiB extents")
            }
            var cursor = s
            for v in vmas.sorted(by: { $0.start < $1.start }) where v.end > cursor && v.start <= cursor {
                cursor = v.end
                if cursor >= e { break }
            }
            guard cursor >= e else {
                throw THPLabError.usage("--range \(hex(s))-\(hex(e)) is not inside the process's VMAs (no mapping at \(hex(cursor)))")
            }
            return (s, e)
        case .vma(let addr):
            guard let v = vmas.first(where: { $0.start <= addr && addr < $0.end }) else {
                throw THPLabError.usage("no VMA contains \(hex(addr))")
            }
            let s = (v.start + huge - 1) & ~(huge - 1), e = v.end & ~(huge - 1)
            guard s < e else {
                throw THPLabError.usage("the VMA \(hex(v.start))-\(hex(v.end)) holds no whole 2 MiB-aligned extent")
            }
            return (s, e)
        }
    }

    public static func run(pid: Int32, target: Target) throws -> CollapseResult {
        let release = Sys.uname().release
        if let v = KernelVersion(release: release), v < KernelVersion(6, 1) {
            throw THPLabError.unsupported("kernel \(v) has no MADV_COLLAPSE (6.1+)")
        }
        let before = try SnapshotTaker.process(pid: pid, withPages: false)
        guard !before.vmas.isEmpty else { throw THPLabError.usage("pid \(pid) has no memory map (a kernel thread?)") }
        let smaps = SmapsParser.parse(FileIO.readIfPresent("/proc/\(pid)/smaps") ?? "")
        let (start, end) = try extents(for: target, vmas: smaps)
        var attempts: [ExtentAttempt] = []
        var a = start
        while a < end {
            switch Sys.processMadvise(pid: pid, address: a, length: Int(huge), .collapse) {
            case .success:
                attempts.append(ExtentAttempt(start: a, end: a + huge, errno: 0, errnoName: nil, meaning: "collapsed (or already PMD-mapped)"))
            case .failure(let e):
                if e == .notPermitted || e == .permissionDenied {
                    throw THPLabError.unsupported("process_madvise on pid \(pid) was refused (\(ErrnoName.of(e))): it needs ptrace access to the process and CAP_SYS_NICE (run as root)")
                }
                if e == .noSuchProcess { throw THPLabError.usage("pid \(pid) exited") }
                if e == .invalidArgument && attempts.isEmpty && !processMadviseCollapseWorks(release: release) {
                    throw THPLabError.unsupported("this kernel refuses MADV_COLLAPSE through process_madvise")
                }
                attempts.append(ExtentAttempt(start: a, end: a + huge, errno: e.rawValue, errnoName: ErrnoName.of(e),
                                              meaning: meaning(of: e)))
            }
            a += huge
        }
        let after = try SnapshotTaker.process(pid: pid, withPages: false)
        var d = SnapshotDiff.diff(before: before, after: after)
        d.vmas = d.vmas.filter { $0.start < end && start < $0.end }
        let ok = attempts.filter { $0.errno == 0 }.count
        return CollapseResult(kernelRelease: release, pid: pid, start: start, end: end, attempts: attempts,
                              succeeded: ok, refused: attempts.count - ok, diff: d)
    }

    /// On 6.1+ process_madvise accepts MADV_COLLAPSE; older kernels say EINVAL.
    static func processMadviseCollapseWorks(release: String) -> Bool {
        (KernelVersion(release: release) ?? KernelVersion(0, 0)) >= KernelVersion(6, 1)
    }

    /// What a MADV_COLLAPSE errno means (Documentation and mm/khugepaged.c).
    public static func meaning(of e: Errno) -> String {
        switch e {
        case .noMemory: return "no huge page could be allocated (memory fragmented or exhausted)"
        case .resourceBusy: return "the memory cgroup charge failed, or the range holds too many unpopulated pages"
        case .resourceTemporarilyUnavailable: return "transient: a page was locked, on an LRU list elsewhere or had an extra reference; try again"
        case .invalidArgument: return "not eligible: VM_NOHUGEPAGE, misaligned address/offset, a regular file without CONFIG_READ_ONLY_THP_FOR_FS, anonymous copy-on-write pages in a file range, or an unsupported mapping"
        case .badAddress: return "the range is not (fully) mapped"
        default: return "unexpected"
        }
    }
}

import SystemPackage

func hex(_ v: UInt) -> String { "0x" + String(v, radix: 16) }
