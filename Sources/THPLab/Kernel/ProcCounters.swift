/// Parsers for the counter files: /proc/vmstat (`name value`), /proc/meminfo
/// (`Name:   value kB`) and single-number sysfs files.
public enum ProcCounters {
    /// /proc/vmstat: every `name value` line.
    public static func parseVmstat(_ text: String) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = Int64(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }

    /// /proc/meminfo: every `Name: value [kB]` line, values in kB (or a
    /// plain count where the line has no unit).
    public static func parseMeminfo(_ text: String) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].split(separator: " ").first
            if let value, let v = Int64(value) { out[String(line[..<colon])] = v }
        }
        return out
    }
}
