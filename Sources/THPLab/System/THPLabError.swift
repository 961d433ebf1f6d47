import SystemPackage

/// An error a person can act on: what failed, the errno behind it if any, and
/// which exit code it deserves (see DESIGN.md: 2 bad usage, 3 host cannot).
public struct THPLabError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Bad usage or input: exit code 2.
        case usage
        /// This host cannot run it (missing root, THP, a kernel feature): exit code 3.
        case unsupported
        /// A system call or file failed while running: exit code 3 as well,
        /// since the host did not let the run proceed.
        case system
    }

    public var kind: Kind
    public var message: String
    public var errno: Errno?

    public init(_ kind: Kind, _ message: String, errno: Errno? = nil) {
        self.kind = kind
        self.message = message
        self.errno = errno
    }

    public static func usage(_ message: String) -> THPLabError { THPLabError(.usage, message) }
    public static func unsupported(_ message: String) -> THPLabError { THPLabError(.unsupported, message) }
    public static func system(_ message: String, _ errno: Errno) -> THPLabError {
        THPLabError(.system, message, errno: errno)
    }

    public var exitCode: Int32 {
        switch kind {
        case .usage: return 2
        case .unsupported, .system: return 3
        }
    }

    public var description: String {
        if let errno { return "\(message): \(errno) (errno \(errno.rawValue))" }
        return message
    }
}
