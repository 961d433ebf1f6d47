/// /proc/PID/maps as `watch` reads it twice a tick: each VMA's range and
/// its whole line, which names it (permissions, offset, device, inode,
/// path), read byte by byte, for a process may have thousands of VMAs.
public enum MapsList {
    public struct Entry: Sendable {
        public var line: Substring
        public var start: UInt64
        public var end: UInt64
    }

    /// Every VMA but [vsyscall], which is no VMA of the process's own (no
    /// page-table walk reaches it); lines that do not begin `start-end `
    /// in hex are left out.
    public static func parse(_ maps: String) -> [Entry] {
        var out: [Entry] = []
        let bytes = maps.utf8
        var lineStart = bytes.startIndex
        while lineStart < bytes.endIndex {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            let line = bytes[lineStart..<lineEnd]
            if let (start, end) = range(line), !line.reversed().starts(with: "[vsyscall]".utf8.reversed()) {
                out.append(Entry(line: maps[lineStart..<lineEnd], start: start, end: end))
            }
            lineStart = lineEnd < bytes.endIndex ? bytes.index(after: lineEnd) : lineEnd
        }
        return out
    }

    /// `start-end ` at the head of a line, in lower-case hex, start < end.
    private static func range(_ line: Substring.UTF8View) -> (UInt64, UInt64)? {
        var start: UInt64 = 0, end: UInt64 = 0, digits = 0, second = false
        for b in line {
            let v: UInt64
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt64(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = UInt64(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "-") where !second && digits > 0: second = true; digits = 0; continue
            case UInt8(ascii: " ") where second && digits > 0: return start < end ? (start, end) : nil
            default: return nil
            }
            guard digits < 16 else { return nil }
            digits += 1
            if second { end = end << 4 | v } else { start = start << 4 | v }
        }
        return nil
    }
}
