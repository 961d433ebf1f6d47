import FoundationEssentials

/// node_exporter's textfile collector reads every `*.prom` of its directory
/// at each of its scrapes: thplab's file is `DIR/thplab.prom`, replaced
/// atomically (write to a temporary name, fsync, rename), so a scrape never
/// sees half a file.
public struct PrometheusTextfile: Sendable {
    public let path: String

    /// Checks that the directory exists and takes a new file (by making
    /// one: permission bits say nothing to root, nor about a read-only mount).
    public init(directory dir: String) throws {
        guard Sys.isDirectory(dir) else {
            throw THPLabError.usage("--textfile \(dir): no such directory (give node_exporter's --collector.textfile.directory)")
        }
        path = (dir.hasSuffix("/") ? dir : dir + "/") + "thplab.prom"
        let probe = path + ".probe"
        do {
            try FileIO.writeAtomically(probe, [])
            try? Sys.unlink(probe)
        } catch let e as THPLabError {
            throw THPLabError(.usage, "--textfile \(dir): thplab cannot create a file there (give a directory it may write, such as node_exporter's textfile directory)",
                              errno: e.errno)
        }
    }

    public func write(_ text: String) throws {
        try FileIO.writeAtomically(path, Array(text.utf8))
    }

    /// Writes once, or every `interval` seconds until `stop` says so.
    public func run(interval: Double?, stop: () -> Bool, scrape: () throws -> String) throws {
        while true {
            try write(try scrape())
            guard let interval else { return }
            let until = Date().addingTimeInterval(interval)
            while Date() < until {
                if stop() { return }
                Sys.sleep(milliseconds: 200)
            }
        }
    }
}
