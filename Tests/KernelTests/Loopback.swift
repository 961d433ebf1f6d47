import Foundation
import Testing

/// Servers the tests start on 127.0.0.1: a free port, a bounded GET, and
/// a daemon that is stopped (SIGTERM, then SIGKILL) and reaped.
enum Loopback {
    /// A port nothing listens on now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
        }
        guard ok else { throw CocoaError(.fileWriteUnknown) }
        return Int(UInt16(bigEndian: a.sin_port))
    }

    /// Sends raw bytes to 127.0.0.1:port and reads the answer until the
    /// server closes, at most `timeout` seconds. nil: no connection.
    static func exchange(port: Int, _ request: [UInt8], timeout: Double = 30) -> String? {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        var off = 0
        while off < request.count {
            let n = request[off...].withUnsafeBytes { send(s, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            off += n
        }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let n = buf.withUnsafeMutableBytes { recv(s, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            out += buf[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// GET path: the status and the body.
    static func get(port: Int, _ path: String, timeout: Double = 30) -> (status: Int, body: String)? {
        guard let r = exchange(port: port, Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), timeout: timeout),
              let line = r.split(separator: "\r\n", maxSplits: 1).first, let status = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        let body = r.range(of: "\r\n\r\n").map { String(r[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    /// Polls until `body` gives a value, at most `timeout` seconds.
    static func waitFor<T>(_ timeout: Double, every: Double = 0.25, _ body: () -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let v = body() { return v }
            usleep(UInt32(every * 1_000_000))
        } while Date() < deadline
        return nil
    }
}

/// A server process the test owns: its output goes to a file in its
/// directory; `stop` ends it within a bound and removes the directory.
final class Daemon {
    let process = Process()
    let dir: String
    let log: String

    init(_ path: String, _ args: [String], dir: String) throws {
        self.dir = dir
        log = dir + "/daemon.log"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = h
        process.standardError = h
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    deinit { stop() }
}
