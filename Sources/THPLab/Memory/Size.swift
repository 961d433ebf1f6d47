/// Sizes as users write them: `4M`, `512K`, `1G`, or plain bytes.
public enum SizeParser {
    public static let mib = 1 << 20

    /// Parses a size with an optional K/M/G suffix (powers of 1024).
    public static func parse(_ text: String) throws -> Int {
        var digits = text.trimmingWhitespace().uppercased()
        guard !digits.isEmpty else { throw THPLabError.usage("empty size") }
        if digits.hasSuffix("B") { digits.removeLast() }
        if digits.hasSuffix("I") { digits.removeLast() }
        var shift = 0
        switch digits.last {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        default: break
        }
        if shift > 0 { digits.removeLast() }
        guard let n = Int(digits), n >= 0, n <= (Int.max >> 31) else {
            throw THPLabError.usage("'\(text)' is not a size; write a number with an optional K, M or G suffix, e.g. 4M")
        }
        return n << shift
    }

    /// `4 MiB`, `512 KiB`, `3 B`.
    public static func format(_ bytes: Int) -> String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) B"
    }
}
