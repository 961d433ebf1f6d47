import FoundationEssentials

/// thplab again, as a child of itself, on this kernel: its JSON to a
/// temporary file, its text to /dev/null, its stderr kept. The child takes
/// the lock and guards the knobs itself, as any run does; a battery or a
/// matrix only reads what it wrote.
public struct OwnRun: Sendable {
    public var arguments: [String]
    public var exitCode: Int32
    public var json: JSONValue?
    public var stderr: String
    public var seconds: Double

    public static func run(_ arguments: [String]) throws -> OwnRun {
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-own-")
        defer {
            for f in ["result.json", "stderr"] { _ = try? Sys.unlink(dir + "/" + f) }
            _ = try? Sys.rmdir(dir)
        }
        let t0 = Sys.monotonicNanoseconds()
        let status = try Sys.runQuietly(Sys.ownExecutable(), arguments + ["--json", dir + "/result.json"], stderrPath: dir + "/stderr")
        let seconds = (Double(Sys.monotonicNanoseconds() - t0) / 1e8).rounded() / 10
        let json = (try? FileIO.readBytes(dir + "/result.json", limit: 1 << 28)).flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0)) }
        let code: Int32
        switch status {
        case .exited(let c)?: code = c
        case .signaled(let sig)?: code = 128 + sig
        case nil: code = 1
        }
        return OwnRun(arguments: arguments, exitCode: code, json: json, stderr: FileIO.readIfPresent(dir + "/stderr") ?? "", seconds: seconds)
    }

    /// Why a run has no result, in one line: its last `thplab:` message.
    public static func why(exitCode: Int32, stderr: String) -> String {
        // thplab's own last message, or the argument parser's `Error: ...`
        // (its usage lines follow it), or else the last line.
        let lines = stderr.split(separator: "\n")
        let last = lines.last { ($0.hasPrefix("thplab: ") && !$0.hasPrefix("thplab: waiting")) || $0.hasPrefix("Error: ") } ?? lines.last
        let text = last.map { String($0.hasPrefix("thplab: ") ? $0.dropFirst(8) : $0) } ?? ""
        return exitCode > 128 ? "killed by signal \(exitCode - 128)" : (text.isEmpty ? "exit \(exitCode), nothing on stderr" : text)
    }

    /// The result it wrote, typed.
    public var result: AnyResult? { OwnRun.decode(json) }

    public static func decode(_ v: JSONValue?) -> AnyResult? {
        guard let v, let data = try? JSONEncoder().encode(v) else { return nil }
        return try? ResultFile.decode(Array(data), source: "thplab's result")
    }
}
