import Foundation

/// Writes any result as pretty JSON to a path, or to stdout for `-`.
public enum JSONOutput {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var bytes = Array(try enc.encode(value))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        let bytes = try encode(value)
        if path == "-" {
            FileHandle.standardOutput.write(Data(bytes))
        } else {
            try FileIO.writeAtomically(path, bytes)
        }
    }
}
