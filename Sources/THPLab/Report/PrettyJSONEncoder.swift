/// Encodes any Encodable as Foundation's JSONEncoder does with
/// `.prettyPrinted`, `.sortedKeys` and `.withoutEscapingSlashes`, byte for
/// byte (a unit test holds them to it on every kind of result), in a
/// fraction of its time: a light tree of the containers, then one pass that
/// writes it into one buffer. The records a large result holds by the
/// thousand (a snapshot's extents and their page classes) skip the tree
/// and write themselves (JSONDirectRecords.swift). A dense 8 GiB
/// snapshot's JSON (1.7 MB) cost JSONEncoder about 40 ms, the tree alone
/// about 15, and with the records writing themselves about 5 (measured in
/// the process's samples). Written through JSONBytes, with a list of such
/// records one node, it takes 2.1 ms (4.0 before; best of 60 encodings of
/// that result in one process). Not handled, as no result holds one: Date,
/// Data, URL and Decimal, which JSONEncoder writes in forms of its own.
public enum PrettyJSONEncoder {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = TreeEncoder()
        try value.encode(to: encoder)
        var out = JSONBytes(reserving: 8 << 20)
        JSONTreeWriter.write(encoder.node ?? .object(ObjectNode()), level: 0, into: &out)
        return out.finish()
    }
}

/// One value of the tree: a finished scalar (number, true, false, null, as
/// written), a string, or a container the encoder is still filling.
enum JSONNode {
    case literal(String)
    case string(String)
    case array(ArrayNode)
    case object(ObjectNode)
    /// A value that writes itself (the many small records of a large
    /// result: no tree is built for them).
    case direct(any PrettyJSONWritable)
}

/// A value that writes its own pretty JSON, byte for byte what the tree
/// would write for its `encode(to:)` (PrettyJSONEncoderTests holds each
/// one to JSONEncoder); `level` is the indentation of its first line's
/// enclosing container.
protocol PrettyJSONWritable {
    func writePrettyJSON(level: Int, into out: inout JSONBytes)
}

final class ArrayNode {
    var items: [JSONNode] = []
}

final class ObjectNode {
    var pairs: [(key: String, value: JSONNode)] = []
}

/// The Encoder of one value: its node is set by the first container asked
/// for (a second keyed container adds to the same object, as JSONEncoder's).
final class TreeEncoder: Encoder {
    var node: JSONNode?
    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let o)? = node { return KeyedEncodingContainer(TreeKeyed<Key>(o)) }
        let o = ObjectNode()
        node = .object(o)
        return KeyedEncodingContainer(TreeKeyed<Key>(o))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array(let a)? = node { return TreeUnkeyed(a) }
        let a = ArrayNode()
        node = .array(a)
        return TreeUnkeyed(a)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { TreeSingle(self) }

    /// The types that write themselves (PrettyJSONWritable), found by a
    /// comparison of types: asking every value whether it conforms costs a
    /// search of the conformance tables for each type that does not.
    static let directTypes: [Any.Type] = [[ExtentCoverage].self, ExtentCoverage.self, ClassCounts.self]

    /// The node of any Encodable: its own encode(to:) into a fresh encoder
    /// (one that encodes nothing is an empty object, as in JSONEncoder).
    static func node<T: Encodable>(_ value: T) throws -> JSONNode {
        if directTypes.contains(where: { $0 == T.self }), let direct = value as? any PrettyJSONWritable { return .direct(direct) }
        let e = TreeEncoder()
        try value.encode(to: e)
        return e.node ?? .object(ObjectNode())
    }

    static func number<T: BinaryFloatingPoint & CustomStringConvertible>(_ v: T) throws -> JSONNode {
        guard v.isFinite else {
            throw EncodingError.invalidValue(v, .init(codingPath: [], debugDescription: "Unable to encode \(T.self).\(v) directly in JSON."))
        }
        var s = v.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return .literal(s)
    }
}

struct TreeKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: ObjectNode
    init(_ object: ObjectNode) { self.object = object }
    var codingPath: [CodingKey] { [] }

    private func put(_ key: Key, _ node: JSONNode) { object.pairs.append((key.stringValue, node)) }

    mutating func encodeNil(forKey key: Key) throws { put(key, .literal("null")) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .literal(value ? "true" : "false")) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(key, try TreeEncoder.number(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(key, try TreeEncoder.number(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, .literal(String(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { put(key, try TreeEncoder.node(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let o = ObjectNode()
        put(key, .object(o))
        return KeyedEncodingContainer(TreeKeyed<NestedKey>(o))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let a = ArrayNode()
        put(key, .array(a))
        return TreeUnkeyed(a)
    }

    mutating func superEncoder() -> Encoder { superEncoder(named: "super") }
    mutating func superEncoder(forKey key: Key) -> Encoder { superEncoder(named: key.stringValue) }

    private func superEncoder(named name: String) -> Encoder {
        let e = TreeEncoder()
        let o = ObjectNode()
        e.node = .object(o)
        object.pairs.append((name, .object(o)))
        return e
    }
}

struct TreeUnkeyed: UnkeyedEncodingContainer {
    let array: ArrayNode
    init(_ array: ArrayNode) { self.array = array }
    var codingPath: [CodingKey] { [] }
    var count: Int { array.items.count }

    mutating func encodeNil() throws { array.items.append(.literal("null")) }
    mutating func encode(_ value: Bool) throws { array.items.append(.literal(value ? "true" : "false")) }
    mutating func encode(_ value: String) throws { array.items.append(.string(value)) }
    mutating func encode(_ value: Double) throws { array.items.append(try TreeEncoder.number(value)) }
    mutating func encode(_ value: Float) throws { array.items.append(try TreeEncoder.number(value)) }
    mutating func encode(_ value: Int) throws { array.items.append(.literal(String(value))) }
    mutating func encode(_ value: Int64) throws { array.items.append(.literal(String(value))) }
    mutating func encode(_ value: UInt64) throws { array.items.append(.literal(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { array.items.append(try TreeEncoder.node(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let o = ObjectNode()
        array.items.append(.object(o))
        return KeyedEncodingContainer(TreeKeyed<NestedKey>(o))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let a = ArrayNode()
        array.items.append(.array(a))
        return TreeUnkeyed(a)
    }

    mutating func superEncoder() -> Encoder {
        let e = TreeEncoder()
        let o = ObjectNode()
        e.node = .object(o)
        array.items.append(.object(o))
        return e
    }
}

struct TreeSingle: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    init(_ encoder: TreeEncoder) { self.encoder = encoder }
    var codingPath: [CodingKey] { [] }

    mutating func encodeNil() throws { encoder.node = .literal("null") }
    mutating func encode(_ value: Bool) throws { encoder.node = .literal(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { encoder.node = .string(value) }
    mutating func encode(_ value: Double) throws { encoder.node = try TreeEncoder.number(value) }
    mutating func encode(_ value: Float) throws { encoder.node = try TreeEncoder.number(value) }
    mutating func encode(_ value: Int) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: Int8) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: Int16) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: Int32) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: Int64) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: UInt) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: UInt8) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: UInt16) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: UInt32) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: UInt64) throws { encoder.node = .literal(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.node = try TreeEncoder.node(value) }
}
