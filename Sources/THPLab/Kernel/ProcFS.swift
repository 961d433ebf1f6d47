/// The files of /proc that thplab reads, in one place, under a root that
/// tests can point at a fixture tree. Nothing outside Kernel/ and System/
/// spells a /proc path.
public struct ProcFS: Sendable {
    public var root: String

    public init(root: String = "/proc") { self.root = root }

    /// The host's own /proc.
    public static let host = ProcFS()

    /// `/proc/PID/name`.
    public func path(_ pid: Int32, _ name: String) -> String { "\(root)/\(pid)/\(name)" }
    public func path(_ name: String) -> String { "\(root)/\(name)" }

    public var meminfo: String { path("meminfo") }
    public var mounts: String { path("mounts") }
    public var swaps: String { path("swaps") }
    public var kpageflags: String { path("kpageflags") }
    public var filesystems: String { path("filesystems") }

    /// Whether the process still exists.
    public func exists(_ pid: Int32) -> Bool { Sys.exists("\(root)/\(pid)") }

    public func read(_ pid: Int32, _ name: String) -> String? { FileIO.readIfPresent(path(pid, name)) }
    public func read(_ name: String) -> String? { FileIO.readIfPresent(path(name)) }

    /// The command name, trimmed; empty when the process is gone.
    public func comm(_ pid: Int32) -> String { read(pid, "comm")?.trimmingWhitespace() ?? "" }

    /// The process's maps, or a usage error (it does not exist) or an
    /// unsupported one (another user's, without the right to read it).
    public func maps(_ pid: Int32) throws -> String {
        do { return try FileIO.read(path(pid, "maps"), limit: 64 << 20) } catch let e as THPLabError {
            switch e.errno {
            case .noSuchFileOrDirectory?, .noSuchProcess?: throw THPLabError.usage("no process \(pid)")
            case .permissionDenied?, .notPermitted?:
                guard Sys.effectiveUID == 0 else {
                    throw THPLabError.unsupported("may not read \(path(pid, "maps")): another user's process needs root (sudo thplab ...)")
                }
                // Root and still refused: the kernel's ptrace-read check
                // failed for another reason than the user.
                throw THPLabError.unsupported("may not read \(path(pid, "maps")) even as root: the kernel refuses this process's "
                    + "memory map (a process of another user namespace, or one a security module such as Yama or an LSM protects); "
                    + "thplab cannot look at it")
            default: throw e
            }
        }
    }

    /// The process's VMAs from smaps (empty when it is gone).
    public func smaps(_ pid: Int32) -> [SmapsEntry] { SmapsParser.parse(read(pid, "smaps") ?? "") }

    /// The VMAs that overlap `[start, end)`.
    public func smaps(_ pid: Int32, overlapping start: UInt, _ end: UInt) -> [SmapsEntry] {
        smaps(pid).filter { $0.start < end && $0.end > start }
    }

    /// MemAvailable in kB, or nil when meminfo cannot be read.
    public func memAvailableKB() -> Int64? { ProcCounters.parseMeminfo(read("meminfo") ?? "")["MemAvailable"] }

    /// Active swap areas, from /proc/swaps.
    public func activeSwaps() -> [String] { Self.swapAreas(read("swaps")) }

    public static func swapAreas(_ text: String?) -> [String] {
        (text ?? "").split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
    }
}
