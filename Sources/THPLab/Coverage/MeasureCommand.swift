import FoundationEssentials
import SystemPackage

/// `collapse --measure 'COMMAND'`: a user's own benchmark, run before and
/// after the collapse. The command runs as given, split into words (single
/// and double quotes group them), found on PATH, never through a shell
/// unless the user writes one (`sh -c '...'`).
public struct MeasureCommand: Sendable {
    public let words: [String]
    public let executable: String
    public let timeoutSeconds: Int

    /// Splits and resolves the command: exit 2 for an empty, badly quoted
    /// or unknown one, before anything changes.
    public init(_ text: String, timeoutSeconds: Int = 600, path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") throws {
        words = try Self.split(text)
        guard let first = words.first else { throw THPLabError.usage("--measure takes a command, e.g. --measure 'pgbench -S -T 10'") }
        guard let exe = Self.resolve(first, path: path) else {
            throw THPLabError.usage("--measure: no command \(first) (not an executable file, nor on PATH)")
        }
        guard (1...86_400).contains(timeoutSeconds) else { throw THPLabError.usage("--measure-timeout must be from 1 to 86400 seconds") }
        executable = exe
        self.timeoutSeconds = timeoutSeconds
    }

    static func split(_ text: String) throws -> [String] {
        var words: [String] = [], word = "", quote: Character?, inWord = false
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == " " || c == "\t" || c == "\n" {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(c)
                inWord = true
            }
        }
        guard quote == nil else { throw THPLabError.usage("--measure: a quote is not closed in \(text)") }
        if inWord { words.append(word) }
        return words
    }

    static func resolve(_ name: String, path: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs it once: its exit status, wall time, and the last line of its
    /// output that holds a figure (a digit), or of its errors when it failed.
    public func run() throws -> MeasureRun {
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-measure-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try FileDescriptor.open(FilePath(dir + "/out"), .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: .ownerReadWrite)
        defer { try? out.close() }
        let err = try FileDescriptor.open(FilePath(dir + "/err"), .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: .ownerReadWrite)
        defer { try? err.close() }
        let t0 = Date()
        let p: ChildProcess
        do { p = try ChildProcess(path: executable, arguments: Array(words.dropFirst()), output: out, errors: err) } catch {
            throw THPLabError.usage("--measure: \(executable) could not start: \(error)")
        }
        while p.isRunning && Date().timeIntervalSince(t0) < Double(timeoutSeconds) { Sys.sleep(milliseconds: 20) }
        let timedOut = p.isRunning
        if timedOut { Sys.kill(p.pid, Sys.SIGTERM); Sys.sleep(milliseconds: 500); if p.isRunning { Sys.kill(p.pid, Sys.SIGKILL) } }
        p.wait()
        let seconds = (Date().timeIntervalSince(t0) * 1000).rounded() / 1000
        let output = String(decoding: (try? FileIO.readBytes(dir + "/out", limit: 1 << 22)) ?? [], as: UTF8.self)
        let errors = String(decoding: (try? FileIO.readBytes(dir + "/err", limit: 1 << 20)) ?? [], as: UTF8.self)
        let status = timedOut ? -1 : p.terminationStatus
        return MeasureRun(exitCode: status, seconds: seconds, figure: Self.lastFigureLine(output),
                          errorLine: status == 0 ? nil : (timedOut ? "did not finish in \(timeoutSeconds) s" : Self.lastLine(errors)))
    }

    /// The last line with a digit in it: most benchmarks end with their figure.
    static func lastFigureLine(_ text: String) -> String? {
        text.split(separator: "\n").map { String($0.trimmingWhitespace()) }.last { $0.contains(where: \.isNumber) }
    }

    static func lastLine(_ text: String) -> String? {
        text.split(separator: "\n").map { String($0.trimmingWhitespace()) }.last { !$0.isEmpty }
    }
}
