/// The per-size THP counters, `hugepages-<N>kB/stats/*` (6.9~): folio size
/// in kB -> counter -> value. Only the counters this kernel has appear: a
/// size or counter missing is absent, never zero (6.12 has 13 counters per
/// size, 6.18 has 18; the 8 kB size of shmem has only shmem and split ones).
public struct PerSizeStats: Codable, Equatable, Sendable {
    public var sizes: [Int: [String: Int64]]

    public init(sizes: [Int: [String: Int64]] = [:]) { self.sizes = sizes }

    public var isEmpty: Bool { sizes.isEmpty }
    public var sortedSizes: [Int] { sizes.keys.sorted() }

    public subscript(sizeKB: Int, counter: String) -> Int64? { sizes[sizeKB]?[counter] }

    /// The size in kB a directory name stands for: `hugepages-64kB` -> 64.
    public static func sizeKB(directory: Substring) -> Int? {
        guard directory.hasPrefix("hugepages-"), directory.hasSuffix("kB") else { return nil }
        let digits = directory.dropFirst("hugepages-".count).dropLast(2)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int(digits), n > 0 else { return nil }
        return n
    }

    /// Parses `grep -r . hugepages-*/stats` output: `hugepages-64kB/stats/swpout:3`
    /// per line. Lines that are not a size's counter are skipped.
    public static func parse(grepOutput text: String) -> PerSizeStats {
        var out = PerSizeStats()
        for line in text.split(separator: "\n") {
            guard let colon = line.lastIndex(of: ":"), let v = Int64(line[line.index(after: colon)...]) else { continue }
            let parts = line[..<colon].split(separator: "/")
            guard parts.count == 3, parts[1] == "stats", let size = sizeKB(directory: parts[0]) else { continue }
            out.sizes[size, default: [:]][String(parts[2])] = v
        }
        return out
    }

    /// Reads every size's counters under the THP sysfs root.
    public static func read(sysfs: THPSysfs = THPSysfs()) -> PerSizeStats {
        var out = PerSizeStats()
        for dir in (try? Sys.listDirectory(sysfs.root)) ?? [] {
            guard let size = sizeKB(directory: dir[...]) else { continue }
            let stats = sysfs.root + "/" + dir + "/stats"
            for name in (try? Sys.listDirectory(stats)) ?? [] {
                guard let text = FileIO.readIfPresent(stats + "/" + name),
                      let v = Int64(text.trimmingWhitespace()) else { continue }
                out.sizes[size, default: [:]][name] = v
            }
        }
        return out
    }

    /// Counters that are levels, not event counts: their delta is a change
    /// of state (folios now held), not events.
    public static let levels: Set<String> = ["nr_anon", "nr_anon_partially_mapped"]

    /// after - before for every counter present in both.
    public func delta(since before: PerSizeStats) -> PerSizeStats {
        var out = PerSizeStats()
        for (size, counters) in sizes {
            guard let old = before.sizes[size] else { continue }
            for (name, v) in counters { if let w = old[name] { out.sizes[size, default: [:]][name] = v - w } }
        }
        return out
    }

    /// Only the counters that are not zero (a delta's movers), sizes with none dropped.
    public var nonZero: PerSizeStats {
        var out = PerSizeStats()
        for (size, counters) in sizes {
            let moved = counters.filter { $0.value != 0 }
            if !moved.isEmpty { out.sizes[size] = moved }
        }
        return out
    }

    /// Every counter name present for any size, in a reading order:
    /// allocation, fallback, partial mapping and split, swap.
    public var counterNames: [String] {
        let all = Set(sizes.values.flatMap(\.keys))
        return all.sorted { (Self.order($0), $0) < (Self.order($1), $1) }
    }

    static func order(_ name: String) -> Int {
        let prefixes = ["anon_fault", "shmem", "nr_anon", "split", "swpout", "zswpout", "swpin"]
        return prefixes.firstIndex { name.hasPrefix($0) } ?? prefixes.count
    }

    // A JSON object keyed by size in kB: {"64": {"anon_fault_alloc": 3}}.
    public init(from decoder: Decoder) throws {
        let raw = try [String: [String: Int64]](from: decoder)
        var s: [Int: [String: Int64]] = [:]
        for (k, v) in raw { if let n = Int(k) { s[n] = v } }
        sizes = s
    }

    public func encode(to encoder: Encoder) throws {
        var raw: [String: [String: Int64]] = [:]
        for (k, v) in sizes { raw[String(k)] = v }
        try raw.encode(to: encoder)
    }
}
