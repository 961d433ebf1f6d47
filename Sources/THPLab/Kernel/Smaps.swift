/// One VMA of /proc/PID/smaps.
public struct SmapsEntry: Equatable, Codable, Sendable {
    public var start: UInt
    public var end: UInt
    public var permissions: String
    public var offset: UInt64
    public var device: String
    public var inode: UInt64
    public var name: String
    /// Every `Key: N kB` field, in kB.
    public var fields: [String: Int]
    /// `VmFlags` as two-letter words (`hg`, `nh`, `mr`, ...).
    public var vmFlags: [String]
    /// `THPeligible`, when the kernel prints it.
    public var thpEligible: Bool?

    public func kb(_ key: String) -> Int { fields[key] ?? 0 }
    public var rssKB: Int { kb("Rss") }
    public var anonymousKB: Int { kb("Anonymous") }
    /// PMD-mapped memory of any kind in this VMA: ShmemPmdMapped,
    /// FilePmdMapped and AnonHugePages.
    public var pmdMappedKB: Int { kb("ShmemPmdMapped") + kb("FilePmdMapped") + kb("AnonHugePages") }
}

public enum SmapsParser {
    /// Parses the text of /proc/PID/smaps into its VMAs, in address order.
    public static func parse(_ text: String) -> [SmapsEntry] {
        var entries: [SmapsEntry] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let header = parseHeader(line) {
                entries.append(header)
                continue
            }
            guard !entries.isEmpty, let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            let rest = line[line.index(after: colon)...].trimmingWhitespace()
            if key == "VmFlags" {
                entries[entries.count - 1].vmFlags = rest.split(separator: " ").map(String.init)
            } else if key == "THPeligible" {
                entries[entries.count - 1].thpEligible = rest == "1"
            } else if let n = Int(rest.split(separator: " ").first ?? "") {
                entries[entries.count - 1].fields[key] = n
            }
        }
        return entries
    }

    /// `7f...-7f... rw-s 00000000 00:01 1234   /memfd:name (deleted)`
    public static func parseHeader(_ line: Substring) -> SmapsEntry? {
        let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard parts.count >= 5, let dash = parts[0].firstIndex(of: "-"),
              let start = UInt(parts[0][..<dash], radix: 16),
              let end = UInt(parts[0][parts[0].index(after: dash)...], radix: 16),
              parts[1].count == 4,
              let offset = UInt64(parts[2], radix: 16),
              parts[3].contains(":"),
              let inode = UInt64(parts[4]) else { return nil }
        let name = parts.count > 5 ? String(parts[5].trimmingWhitespace()) : ""
        return SmapsEntry(start: start, end: end, permissions: String(parts[1]), offset: offset,
                          device: String(parts[3]), inode: inode, name: name, fields: [:], vmFlags: [],
                          thpEligible: nil)
    }
}
