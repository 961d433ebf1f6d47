/// The value of one sysfs file. Files that offer a choice print every option
/// with the selected one in brackets (`always within_size advise [never] deny
/// force`); numeric files print a number.
public struct SysfsValue: Equatable, Codable, Sendable {
    /// The selected option, or the file's whole (trimmed) content.
    public var current: String
    /// The options the file offers, empty for a numeric or free-form file.
    public var options: [String]

    public init(current: String, options: [String] = []) {
        self.current = current
        self.options = options
    }

    /// Parses a sysfs file's content.
    public static func parse(_ text: Substring) -> SysfsValue {
        let trimmed = text.trimmingWhitespace()
        let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard words.contains(where: { $0.hasPrefix("[") }) else {
            return SysfsValue(current: String(trimmed))
        }
        var options: [String] = []
        var current = ""
        for w in words {
            if w.hasPrefix("[") && w.hasSuffix("]") {
                let inner = String(w.dropFirst().dropLast())
                current = inner
                options.append(inner)
            } else {
                options.append(String(w))
            }
        }
        return SysfsValue(current: current, options: options)
    }

    public static func parse(_ text: String) -> SysfsValue { parse(text[...]) }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s = s.dropLast() }
        return s
    }
}

extension String {
    /// Without the spaces, tabs and line ends at either end.
    public func trimmingWhitespace() -> String { String(self[...].trimmingWhitespace()) }
}
