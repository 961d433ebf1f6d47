
/// /proc/mounts: which filesystem a path is on and its options.
public enum MountTable {
    public struct Mount: Equatable, Sendable {
        public var source: String
        public var target: String
        public var type: String
        public var options: [String]
    }

    /// This host's mount table, as the kernel shows it to this process.
    public static let path = "/proc/mounts"

    /// The text of /proc/mounts, nil when it cannot be read.
    public static var hostText: String? { FileIO.readIfPresent(path) }

    public static func parse(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count >= 4 else { return nil }
            return Mount(source: String(f[0]), target: unescape(f[1]), type: String(f[2]),
                         options: f[3].split(separator: ",").map(String.init))
        }
    }

    /// /proc/mounts escapes space, tab, newline and backslash as octal.
    static func unescape(_ s: Substring) -> String {
        String(s).replacing("\\040", with: " ").replacing("\\011", with: "\t")
            .replacing("\\012", with: "\n").replacing("\\134", with: "\\")
    }

    /// The mount a path lives on: the longest mount point that prefixes it.
    public static func mount(containing path: String, in mounts: [Mount]) -> Mount? {
        mounts.filter { path == $0.target || path.hasPrefix($0.target == "/" ? "/" : $0.target + "/") }
            .max { $0.target.count < $1.target.count }
    }

    /// The `huge=` option of the tmpfs mounted at or containing `path`
    /// (`never` when a tmpfs shows none), nil if it is not a tmpfs.
    public static func hugeOption(of path: String, mountsText: String? = nil) -> String? {
        guard let text = mountsText ?? hostText,
              let m = mount(containing: path, in: parse(text)), m.type == "tmpfs" else { return nil }
        return m.options.first { $0.hasPrefix("huge=") }.map { String($0.dropFirst(5)) } ?? "never"
    }

    /// Mount points of cgroup hierarchies (v1 `cgroup`, v2 `cgroup2`), the
    /// memory controller's first, then v2, then the other v1 controllers.
    public static func cgroupMounts(_ text: String) -> [String] {
        let ms = parse(text).filter { $0.type == "cgroup" || $0.type == "cgroup2" }
        func rank(_ m: Mount) -> Int { m.options.contains("memory") ? 0 : m.type == "cgroup2" ? 1 : 2 }
        return ms.sorted { rank($0) < rank($1) }.map(\.target)
    }

    public static func filesystemType(of path: String) -> String? {
        guard let text = hostText else { return nil }
        return mount(containing: path, in: parse(text))?.type
    }
}

