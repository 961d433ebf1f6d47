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
    /// Byte by byte: `snapshot --all` parses every process's smaps, and
    /// splitting each line into strings cost more than the kernel's walk.
    public static func parse(_ text: String) -> [SmapsEntry] {
        var text = text
        return text.withUTF8 { bytes in
            var entries: [SmapsEntry] = []
            var current: SmapsEntry?
            var lineStart = 0
            while lineStart < bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                lineStart = lineEnd + 1
                guard !line.isEmpty else { continue }
                // Headers start with a hex address, field keys with a capital.
                if isLowerHexDigit(line[0]), let header = parseHeader(Substring(String(decoding: line, as: UTF8.self))) {
                    if let c = current { entries.append(c) }
                    current = header
                    continue
                }
                if current != nil { parseField(line, into: &current!) }
            }
            if let c = current { entries.append(c) }
            return entries
        }
    }

    private static func isLowerHexDigit(_ b: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b)
    }

    private static func isBlank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }

    /// `Key:   N kB`, `THPeligible:    1` or `VmFlags: rd wr mr`.
    private static func parseField(_ line: UnsafeBufferPointer<UInt8>, into entry: inout SmapsEntry) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        var a = colon + 1, b = line.count
        while a < b && isBlank(line[a]) { a += 1 }
        while b > a && isBlank(line[b - 1]) { b -= 1 }
        let rest = UnsafeBufferPointer(rebasing: line[a..<b])
        let key = String(decoding: UnsafeBufferPointer(rebasing: line[..<colon]), as: UTF8.self)
        if key == "VmFlags" {
            entry.vmFlags = rest.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        } else if key == "THPeligible" {
            entry.thpEligible = rest.count == 1 && rest[0] == UInt8(ascii: "1")
        } else if let n = Int(String(decoding: rest.prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)) {
            entry.fields[key] = n
        }
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
