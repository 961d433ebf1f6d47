import Foundation
@testable import THPLab

/// Fixture files: real kernel output captured on the project's machines.
enum Fixture {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)!
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: url(name), encoding: .utf8)
    }

    static func path(_ name: String) -> String { url(name).path }

    /// A saved result, read as thplab reads it (old options filled in).
    static func result<R: ThplabResult & Decodable>(_ name: String, as type: R.Type) throws -> R {
        try ResultFile.read(path(name), as: type)
    }
}
