import Foundation

/// What a run changed on the host, kept on disk before each change so that a
/// run killed with SIGKILL can be undone by the next one: the original value
/// of every knob it wrote, and the mounts, files and directories it made.
public struct HostJournal: Codable, Equatable, Sendable {
    public struct Knob: Codable, Equatable, Sendable {
        public var name: String
        public var original: String
    }

    public var version = 1
    public var pid: Int32
    public var command: String
    public var knobs: [Knob] = []
    public var mounts: [String] = []
    public var files: [String] = []
    public var directories: [String] = []

    public var isEmpty: Bool { knobs.isEmpty && mounts.isEmpty && files.isEmpty && directories.isEmpty }

    public static func load(_ path: String) throws -> HostJournal? {
        guard Sys.exists(path) else { return nil }
        let bytes = try FileIO.readBytes(path, limit: 1 << 20)
        do {
            return try JSONDecoder().decode(HostJournal.self, from: Data(bytes))
        } catch {
            throw THPLabError(.system, "the journal \(path) is unreadable (\(error)); inspect it, restore the knobs by hand (`thplab doctor` shows them) and delete it")
        }
    }

    public func save(_ path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.writeAtomically(path, Array(try enc.encode(self)))
    }

    /// Puts back everything the journal lists, knobs last-changed first.
    /// Returns one line per action, problems included; never throws, so that
    /// one failure does not stop the rest.
    public func undo(sysfs: THPSysfs) -> [String] {
        var log: [String] = []
        for knob in knobs.reversed() {
            guard THPSysfs.rule(for: knob.name) != nil, !knob.name.contains("..") else {
                log.append("journal names '\(knob.name)', which is not a THP knob: ignored")
                continue
            }
            let current = (try? sysfs.read(knob.name).current) ?? "?"
            if current == knob.original { continue }
            switch FileIO.writeExisting(sysfs.path(knob.name), knob.original) {
            case .success: log.append("restored \(knob.name): \(current) -> \(knob.original)")
            case .failure(let e): log.append("FAILED to restore \(knob.name) to \(knob.original): \(e)")
            }
        }
        for mount in mounts.reversed() {
            switch Sys.umount(mount) {
            case .success: log.append("unmounted \(mount)")
            case .failure(.invalidArgument): break  // not mounted any more
            case .failure:
                if case .failure(let e) = Sys.umount(mount, lazy: true) {
                    log.append("FAILED to unmount \(mount): \(e)")
                } else {
                    log.append("unmounted \(mount) (lazily: it was busy)")
                }
            }
        }
        for file in files.reversed() where Sys.exists(file) {
            if case .failure(let e) = Sys.unlink(file) { log.append("FAILED to remove \(file): \(e)") }
        }
        for dir in directories.reversed() where Sys.exists(dir) {
            if case .failure(let e) = Sys.rmdir(dir) { log.append("FAILED to remove \(dir): \(e)") }
        }
        return log
    }
}
