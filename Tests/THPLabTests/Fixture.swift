import Foundation

/// Fixture files: real kernel output captured on the project's machines.
enum Fixture {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)!
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: url(name), encoding: .utf8)
    }

    static func path(_ name: String) -> String { url(name).path }

    /// The text of a fixture that only some releases have.
    static func textIfPresent(_ name: String) -> String? {
        Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil).flatMap { try? String(contentsOf: $0, encoding: .utf8) }
    }
}
