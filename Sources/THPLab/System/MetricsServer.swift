import Glibc
import SystemPackage

/// `ADDR:PORT`, `:PORT` or `PORT` (127.0.0.1), `[V6ADDR]:PORT`.
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public init(parsing s: String) throws {
        var hostPart = ""
        var portPart = Substring(s)
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]"), s[s.index(after: close)...].hasPrefix(":") else {
                throw THPLabError.usage("--listen \(s): an IPv6 address goes in brackets with a port, as [::1]:9799")
            }
            hostPart = String(s[s.index(after: s.startIndex)..<close])
            portPart = s[s.index(close, offsetBy: 2)...]
        } else if let colon = s.lastIndex(of: ":") {
            hostPart = String(s[..<colon])
            portPart = s[s.index(after: colon)...]
            if hostPart.contains(":") { throw THPLabError.usage("--listen \(s): put an IPv6 address in brackets, as [::1]:9799") }
        }
        guard let port = UInt16(portPart), port > 0 else {
            throw THPLabError.usage("--listen \(s): the port must be a number from 1 to 65535, as in 127.0.0.1:9799")
        }
        host = hostPart.isEmpty ? "127.0.0.1" : hostPart
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var isLoopback: Bool { host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.") }
}

/// A one-request-at-a-time HTTP/1.x server for `GET /metrics`. Each
/// connection has a deadline for its whole request and a cap on its
/// header, so a slow or malformed client, or a huge header, costs at most
/// the deadline and is answered 408, 400 or 431; any method but GET (and
/// HEAD) gets 405, any other path 404. Every answer closes the connection.
public final class MetricsServer {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String
        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public static let maxHeaderBytes = 8192
    public let address: ListenAddress
    private let fd: Int32
    private let deadlineMs: Int

    /// Binds and listens. A port in use, or an address this host does not
    /// have, is a usage error (exit 2) that says so.
    public init(_ address: ListenAddress, deadlineMs: Int = 5000) throws {
        self.address = address
        self.deadlineMs = deadlineMs
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        let rc = getaddrinfo(host, String(address.port), &hints, &info)
        guard rc == 0, let ai = info else {
            throw THPLabError.usage("--listen \(address): \(host) is not a numeric IPv4 or IPv6 address")
        }
        defer { freeaddrinfo(info) }
        let s = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw THPLabError(.system, "socket() for --listen \(address)", errno: Errno(rawValue: errno)) }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
            let e = Errno(rawValue: errno)
            close(s)
            switch e {
            case .addressInUse:
                throw THPLabError(.usage, "--listen \(address): the port is in use (another exporter, or a second thplab?): choose another port", errno: e)
            case .addressNotAvailable:
                throw THPLabError(.usage, "--listen \(address): this host has no such address (127.0.0.1 serves this host only)", errno: e)
            case .permissionDenied:
                throw THPLabError(.usage, "--listen \(address): ports under 1024 need CAP_NET_BIND_SERVICE: choose a port from 1024 up", errno: e)
            default:
                throw THPLabError(.usage, "--listen \(address): cannot bind", errno: e)
            }
        }
        guard listen(s, 16) == 0 else {
            let e = Errno(rawValue: errno)
            close(s)
            throw THPLabError(.system, "listen() on \(address)", errno: e)
        }
        fd = s
    }

    deinit { close(fd) }

    /// The port bound (the one asked, or the kernel's choice for port 0).
    public var boundPort: UInt16 {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { return address.port }
        return withUnsafePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// Serves connections one at a time until `stop` says so (checked at
    /// least every second). `metrics` answers GET /metrics.
    public func serve(stop: () -> Bool = { false }, metrics: () -> Response) {
        while !stop() {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 1000) > 0 else { continue }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }
            handle(c, metrics: metrics)
            close(c)
        }
    }

    private func handle(_ c: Int32, metrics: () -> Response) {
        var tv = timeval(tv_sec: deadlineMs / 1000, tv_usec: (deadlineMs % 1000) * 1000)
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let head: [UInt8]
        switch readHead(c) {
        case .success(let h): head = h
        case .failure(let e):
            if e.status > 0 { send(c, MetricsServer.response(Response(status: e.status, body: MetricsServer.reason(e.status) + "\n"), head: false)) }
            return
        }
        let answer = MetricsServer.route(head, metrics: metrics)
        send(c, answer.bytes)
    }

    /// Status codes for failures: 0 = the client went away.
    private func readHead(_ c: Int32) -> Result<[UInt8], HeadError> {
        var buf: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(deadlineMs))
        while true {
            if let end = MetricsServer.headEnd(buf) { return .success(Array(buf[..<end])) }
            if buf.count > MetricsServer.maxHeaderBytes { return .failure(HeadError(431)) }
            let left = clock.now.duration(to: deadline)
            let ms = Int32(max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard ms > 0 else { return .failure(HeadError(408)) }
            var p = pollfd(fd: c, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, ms)
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return .failure(HeadError(408)) }
            let n = chunk.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return .failure(HeadError(buf.isEmpty ? 0 : 400)) }
            buf += chunk[..<n]
        }
    }

    struct HeadError: Error {
        let status: Int
        init(_ s: Int) { status = s }
    }

    private func send(_ c: Int32, _ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            off += n
        }
    }

    // MARK: the pure part (unit-tested)

    /// Where the blank line ending the header starts (CRLF CRLF, or LF LF
    /// from a lenient client), and the header without it.
    static func headEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 2 else { return nil }
        for i in 0..<(b.count - 1) {
            if b[i] == 10 && b[i + 1] == 10 { return i }
            if i + 3 < b.count, b[i] == 13, b[i + 1] == 10, b[i + 2] == 13, b[i + 3] == 10 { return i }
        }
        return nil
    }

    /// The answer to a request header.
    static func route(_ head: [UInt8], metrics: () -> Response) -> (status: Int, bytes: [UInt8]) {
        let line = String(decoding: head.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else {
            return (400, response(Response(status: 400, body: "Bad Request\n"), head: false))
        }
        let path = parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == "/metrics" else {
            return (404, response(Response(status: 404, body: "Not Found: thplab serves GET /metrics only\n"), head: false))
        }
        guard parts[0] == "GET" || parts[0] == "HEAD" else {
            return (405, response(Response(status: 405, body: "Method Not Allowed: GET /metrics only\n"), head: false, allow: true))
        }
        let r = metrics()
        return (r.status, response(r, head: parts[0] == "HEAD"))
    }

    static func response(_ r: Response, head: Bool, allow: Bool = false) -> [UInt8] {
        let body = Array(r.body.utf8)
        var h = "HTTP/1.1 \(r.status) \(reason(r.status))\r\nContent-Type: \(r.contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        if allow { h += "Allow: GET, HEAD\r\n" }
        h += "\r\n"
        return Array(h.utf8) + (head ? [] : body)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
