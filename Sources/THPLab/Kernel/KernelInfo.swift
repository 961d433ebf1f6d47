/// A kernel release as `uname -r` prints it (`6.18.44-fc-v595`), compared
/// by its numbers.
public struct KernelVersion: Comparable, Codable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    public init?(release: String) {
        let numbers = release.prefix { $0.isNumber || $0 == "." }.split(separator: ".").compactMap { Int($0) }
        guard numbers.count >= 2 else { return nil }
        self.init(numbers[0], numbers[1], numbers.count > 2 ? numbers[2] : 0)
    }

    public static func < (a: KernelVersion, b: KernelVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
}

/// The running kernel's build options that matter to THP, from
/// /boot/config-RELEASE or /proc/config.gz.
public struct KernelConfig: Sendable {
    public var options: [String: String]
    /// Where it came from, or nil when no config could be found.
    public var source: String?

    public static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("CONFIG_") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }

    public static func load(release: String) -> KernelConfig {
        let boot = "/boot/config-\(release)"
        if let text = FileIO.readIfPresent(boot) { return KernelConfig(options: parse(text), source: boot) }
        if let text = Sys.readGzip("/proc/config.gz", limit: 8 << 20) {
            return KernelConfig(options: parse(text), source: "/proc/config.gz")
        }
        return KernelConfig(options: [:], source: nil)
    }

    /// y/m/n for a boolean option, nil when the config is unknown.
    public func isSet(_ name: String) -> Bool? {
        guard source != nil else { return nil }
        let v = options[name]
        return v == "y" || v == "m"
    }
}
