import FoundationEssentials

/// Writes any result as pretty JSON to a path, or to stdout for `-`.
public enum JSONOutput {
    /// JSONEncoder's pretty, sorted-keys form, written by PrettyJSONEncoder.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes = try PrettyJSONEncoder.encode(value)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// Refuses, before anything runs, a path whose directory does not exist
    /// or cannot be written, so that no result is lost at the end.
    public static func checkWritable(_ path: String, option: String = "--json") throws {
        guard path != "-" else { return }
        guard !path.isEmpty else { throw THPLabError.usage("\(option) needs a path, or - for stdout") }
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let parent = dir.isEmpty ? "/" : dir
        guard Sys.isDirectory(parent) else {
            throw THPLabError.usage("\(option) \(path): the directory \(parent) does not exist")
        }
        guard Sys.isWritable(parent) else {
            throw THPLabError.usage("\(option) \(path): the directory \(parent) is not writable")
        }
        if Sys.isDirectory(path) { throw THPLabError.usage("\(option) \(path) is a directory; give a file name") }
    }

    /// Any output (JSON, HTML, CSV) to a file, written atomically; stdout
    /// is the CLI's.
    public static func write(bytes: [UInt8], to path: String) throws {
        try FileIO.writeAtomically(path, bytes)
    }
}
