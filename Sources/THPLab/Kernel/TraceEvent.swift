import Foundation

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
        guard let cpuOpen = line.range(of: " ["), let cpuClose = line[cpuOpen.upperBound...].firstIndex(of: "]") else { return nil }
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
        guard let colon = body.range(of: ": ") else { return nil }
        let name = String(body[..<colon.lowerBound])
        let text = body[colon.upperBound...]
        var event = TraceEvent(task: String(taskPid[..<dash]), pid: pid, timestamp: timestamp, name: name, fields: [:])
        if name == "tracing_mark_write" {
            event.fields[""] = String(text)
        } else if let keys = formats[name]?.keys, !keys.isEmpty {
            event.fields = cut(text, keys: keys)
        } else {
            for pair in text.split(separator: ",") {
                let p = pair.trimmingWhitespace()
                if let eq = p.firstIndex(of: "=") { event.fields[String(p[..<eq])] = String(p[p.index(after: eq)...]) }
            }
        }
        return event
    }

    /// Cuts `k1=v1, k2=v2 ...` by the known keys, in order: each value runs
    /// to the space (and comma) before the next key.
    static func cut(_ text: Substring, keys: [String]) -> [String: String] {
        var out: [String: String] = [:]
        var rest = text
        for (i, key) in keys.enumerated() {
            guard rest.hasPrefix(key + "=") else { break }
            rest = rest.dropFirst(key.count + 1)
            if i + 1 < keys.count, let next = rest.range(of: " \(keys[i + 1])=") {
                var value = rest[..<next.lowerBound]
                if value.hasSuffix(",") { value = value.dropLast() }
                out[key] = String(value)
                rest = rest[rest.index(after: next.lowerBound)...]
            } else {
                out[key] = String(rest)
                rest = rest[rest.endIndex...]
            }
        }
        return out
    }
}
