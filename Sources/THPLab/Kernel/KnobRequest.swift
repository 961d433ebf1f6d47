/// `NAME=VALUE` as users write it, resolved against the knobs this kernel
/// has: full names (`khugepaged/max_ptes_none`) or a unique last component
/// (`max_ptes_none`). Knob names never become paths of their own: `..`,
/// absolute paths and unknown names are refused.
public struct KnobRequest: Equatable, Sendable {
    public var name: String
    public var value: String

    /// Resolves a user's knob name among `present` (full names).
    public static func resolve(_ raw: String, present: [String]) throws -> String {
        let name = raw.trimmingWhitespace()
        guard !name.isEmpty else { throw THPLabError.usage("an empty knob name") }
        guard !name.hasPrefix("/"), !name.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw THPLabError.usage("'\(raw)' is a path, not a knob name; name knobs as `thplab knobs show` lists them")
        }
        if present.contains(name) { return name }
        let matches = present.filter { $0.split(separator: "/").last.map(String.init) == name }
        switch matches.count {
        case 1: return matches[0]
        case 0:
            if let why = sizeMismatch(name, present: present) { throw THPLabError.usage(why) }
            throw THPLabError.usage("no THP knob '\(raw)' on this kernel; `thplab knobs show` lists them")
        default: throw THPLabError.usage("'\(raw)' is ambiguous: \(matches.joined(separator: ", ")); give the full name")
        }
    }

    /// For a per-size name the kernel lacks: the sizes it offers for that
    /// file (anonymous `enabled` and shmem `shmem_enabled` differ: 8 kB is
    /// shmem's only), or that it has no per-size THP at all.
    static func sizeMismatch(_ name: String, present: [String]) -> String? {
        let parts = name.split(separator: "/")
        guard parts.count == 2, parts[0].hasPrefix("hugepages-") else { return nil }
        let file = parts[1]
        let sizes = present.compactMap { p -> String? in
            let q = p.split(separator: "/")
            return q.count == 2 && q[1] == file && q[0].hasPrefix("hugepages-") ? String(q[0].dropFirst("hugepages-".count)) : nil
        }
        guard !sizes.isEmpty else {
            return present.contains(where: { $0.hasPrefix("hugepages-") })
                ? "this kernel has no per-size \(file) files (shmem per-size policies came with 6.11)"
                : "this kernel has no per-size THP (hugepages-<N>kB directories came with 6.8)"
        }
        return "this kernel has no \(name): its sizes for \(file) are \(sizes.joined(separator: ", "))"
    }

    /// Parses and validates every `NAME=VALUE` before any is written.
    public static func parse(_ pairs: [String], sysfs: THPSysfs) throws -> [KnobRequest] {
        let present = sysfs.presentKnobs()
        var out: [KnobRequest] = []
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw THPLabError.usage("'\(pair)' is not NAME=VALUE")
            }
            let name = try resolve(String(pair[..<eq]), present: present)
            let value = String(pair[pair.index(after: eq)...]).trimmingWhitespace()
            try sysfs.validate(name: name, value: value)
            if let i = out.firstIndex(where: { $0.name == name }) {
                guard out[i].value == value else { throw THPLabError.usage("\(name) is given twice with different values") }
                continue
            }
            out.append(KnobRequest(name: name, value: value))
        }
        return out
    }
}

/// A knob profile: `name=value` lines, `#` comments and blank lines, as
/// `thplab knobs save` writes and `knobs load` reads.
public enum KnobProfile {
    public static func format(_ knobs: [String: SysfsValue], release: String) -> String {
        var out = "# thplab knob profile, saved on kernel \(release)\n# load with: thplab knobs load FILE\n"
        for name in knobs.keys.sorted(by: KnobsTextReport.knobOrder) { out += "\(name)=\(knobs[name]!.current)\n" }
        return out
    }

    /// The `NAME=VALUE` lines of a profile; a line of any other shape is an
    /// error naming its number.
    public static func pairs(_ text: String) throws -> [(line: Int, pair: String)] {
        var out: [(Int, String)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.contains("=") else { throw THPLabError.usage("line \(i + 1): '\(line)' is not NAME=VALUE") }
            out.append((i + 1, String(line)))
        }
        return out
    }

    /// Parses and validates a whole profile; nothing is written here.
    public static func load(_ text: String, sysfs: THPSysfs) throws -> [KnobRequest] {
        var out: [KnobRequest] = []
        for (line, pair) in try pairs(text) {
            do {
                out += try KnobRequest.parse([pair], sysfs: sysfs).filter { r in !out.contains { $0.name == r.name } }
            } catch let e as THPLabError {
                throw THPLabError(e.kind, "line \(line): \(e.message)", errno: e.errno)
            }
        }
        return out
    }
}
