
/// One line of a tracefs `trace` file, cut into its header (task, pid,
/// timestamp, event) and its `key=value` fields. The keys come from the
/// event's `format` file, so a value holding ", " (a file name) stays whole
/// and a field a kernel renamed or dropped (6.1's `writable`) is simply
/// absent.
public struct TraceEvent: Equatable, Sendable {
    public var task: String
    public var pid: Int32
    /// Seconds, the trace clock's (`local` by default: boot-based).
    public var timestamp: Double
    public var name: String
    public var fields: [String: String]

    /// The scan or collapse result the event prints, by name.
    public var result: String? { fields["result"] ?? fields["status"] }
    /// The hashed `mm_struct` pointer: the same for every event of one process.
    public var mm: String? { fields["mm"] }
    /// Whether khugepaged emitted it, rather than a task in MADV_COLLAPSE.
    public var byKhugepaged: Bool { task == "khugepaged" }
    /// The text of a `tracing_mark_write` line (trace_marker).
    public var markText: String? { name == "tracing_mark_write" ? fields[""] : nil }

    /// Hexadecimal fields (`scan_pfn=0x...`, `addr=7f...`) as numbers; nil
    /// for the -1 the kernel prints when there is no page.
    public func hex(_ key: String) -> UInt64? {
        guard var s = fields[key] else { return nil }
        if s.hasPrefix("0x") { s.removeFirst(2) }
        guard let v = UInt64(s, radix: 16), v != UInt64.max else { return nil }
        return v
    }

    public func int(_ key: String) -> Int? { fields[key].flatMap { Int($0) } }

    /// Parses one line; nil for comments and lines it cannot read. `formats`
    /// maps event names to their format; an event without one is cut at
    /// ", " between `key=value` pairs.
    public static func parse(_ line: Substring, formats: [String: TraceFormat]) -> TraceEvent? {
        guard !line.hasPrefix("#") else { return nil }
        // "  TASK-PID  [CPU] FLAGS  SECONDS.MICROS: EVENT: FIELDS"
        guard let cpuOpen = line.firstRange(of: " ["), let cpuClose = line[cpuOpen.upperBound...].firstIndex(of: "]") else { return nil }
        let taskPid = line[..<cpuOpen.lowerBound].trimmingWhitespace()
        guard let dash = taskPid.lastIndex(of: "-"), let pid = Int32(taskPid[taskPid.index(after: dash)...]) else { return nil }
        let rest = line[line.index(after: cpuClose)...]
        // The timestamp is the first token that ends with ':' and is a number.
        var cursor = rest.startIndex
        var timestamp: Double?
        for token in rest.split(separator: " ") {
            if token.hasSuffix(":"), let t = Double(token.dropLast()) {
                timestamp = t
                cursor = token.endIndex
                break
            }
        }
        guard let timestamp else { return nil }
        let body = rest[cursor...].trimmingWhitespace()
        guard let colon = body.firstRange(of: ": ") else { return nil }
        let name = String(body[..<colon.lowerBound])
        let text = body[colon.upperBound...]
        var event = TraceEvent(task: String(taskPid[..<dash]), pid: pid, timestamp: timestamp, name: name, fields: [:])
        if name == "tracing_mark_write" {
            event.fields[""] = String(text)
        } else if let keys = formats[name]?.keys, !keys.isEmpty {
            event.fields = cut(text, keys: keys)
        } else {
            // No format: `k=v` tokens; a token without `=` belongs to the
            // value before it.
            var last: String?
            for token in text.split(separator: " ") {
                var t = token
                if t.hasSuffix(",") { t = t.dropLast() }
                if let eq = t.firstIndex(of: "="), eq != t.startIndex {
                    last = String(t[..<eq])
                    event.fields[last!] = String(t[t.index(after: eq)...])
                } else if let k = last {
                    event.fields[k, default: ""] += " " + t
                }
            }
        }
        return event
    }

    /// Cuts `k1=v1, k2=v2 ...` by the known keys, from the right: the
    /// fields after a free-text one (a file name) are numbers and words, so
    /// the last ` key=` of each is the real one, and a file name holding
    /// ", present=9" stays whole.
    static func cut(_ text: Substring, keys: [String]) -> [String: String] {
        var out: [String: String] = [:]
        var rest = text
        for (i, key) in keys.enumerated().reversed() {
            let found: Range<Substring.Index>?
            if i == 0 {
                found = rest.hasPrefix(key + "=") ? rest.startIndex..<rest.index(rest.startIndex, offsetBy: key.count + 1) : nil
            } else {
                found = rest.lastRange(of: " \(key)=")
            }
            guard let found else { continue }
            var value = rest[found.upperBound...]
            if value.hasSuffix(",") { value = value.dropLast() }
            out[key] = String(value)
            rest = rest[..<found.lowerBound]
        }
        return out
    }
}

extension Substring {
    /// The last place `needle` occurs: the search runs from the end.
    func lastRange(of needle: String) -> Range<Index>? {
        var i = endIndex
        while i > startIndex {
            i = index(before: i)
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
        }
        return nil
    }
}
