import Foundation
import Testing
@testable import THPLab

/// PrettyJSONEncoder writes what JSONEncoder writes with .prettyPrinted,
/// .sortedKeys and .withoutEscapingSlashes, byte for byte: on every saved
/// result of the fixtures and on the scalars where the two could part.
@Suite struct PrettyJSONEncoderTests {
    static func reference<T: Encodable>(_ value: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }

    static func ours<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try PrettyJSONEncoder.encode(value), as: UTF8.self)
    }

    static func expectSame<T: Encodable>(_ value: T, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (a, b) = (try reference(value), try ours(value))
        guard a != b else { return }
        let at = zip(a, b).prefix { $0 == $1 }.count
        Issue.record("\(what): differs at character \(at): JSONEncoder \(a.dropFirst(max(0, at - 40)).prefix(80).debugDescription) vs ours \(b.dropFirst(max(0, at - 40)).prefix(80).debugDescription)",
                     sourceLocation: sourceLocation)
    }

    static var fixtures: [String] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.sorted().map { dir + "/" + $0 }
    }

    @Test func everySavedResultOfTheFixtures() throws {
        #expect(Self.fixtures.count >= 20)
        var kinds = Set<String>()
        for path in Self.fixtures {
            let r = try ResultFile.read(path)
            kinds.insert("\(r.kind)")
            switch r {
            case .retract(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .run(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .sweep(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .watch(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .snapshot(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .diff(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .matrix(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .explain(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .battery(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .behaviourDiff(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .mthp(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .mthpSweep(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .benefit(let v): try Self.expectSame(ResultEnvelope.Wrapped(body: v), path)
            case .other: Issue.record("\(path): not a typed result")
            }
        }
        // Snapshots, sweeps, retracts, batteries, matrices, watches, diffs, mthp: the shapes results take.
        #expect(kinds.count >= 8, "\(kinds)")
    }

    /// The records that write themselves (PrettyJSONWritable), with every
    /// optional key present and absent, keys that sort as text ("128" before
    /// "16"), negative and extreme numbers, and nested at several depths.
    @Test func recordsThatWriteThemselves() throws {
        var c = ClassCounts()
        c.pmd = 512; c.pteThp = -1; c.mthp = Int.max; c.small = Int.min; c.anon = 7
        c.mthpSizes = ["64": 16, "128": 32, "16": 4, "2048": 0]
        var full = ExtentCoverage(start: 0, end: UInt.max, pages: c, pageClasses: "PPTms.w\"\u{1}", nodes: ["0": 3, "10": 2, "1": 5])
        let bare = ExtentCoverage(start: 0x7f00_0000_0000, end: 0x7f00_0020_0000, pages: ClassCounts(), pageClasses: nil, nodes: nil)
        try Self.expectSame(full, "an extent with every key")
        try Self.expectSame(bare, "an extent with none of its optional keys")
        try Self.expectSame([["extents": [full, bare]]], "nested in an array of objects")
        full.nodes = [:]
        try Self.expectSame(["a": ["b": [full]]], "an empty nodes object, deeper")
        try Self.expectSame([c, ClassCounts()], "page classes alone")
        // They do take the direct path: no tree is built for them.
        for node in [try TreeEncoder.node(full), try TreeEncoder.node(c), try TreeEncoder.node([full, bare])] {
            guard case .direct = node else { Issue.record("\(node) was built as a tree"); continue }
        }
        try Self.expectSame(["extents": [ExtentCoverage]()], "an empty array of records")
    }

    struct Scalars: Encodable {
        var strings: [String]
        var doubles: [Double]
        var ints: [Int]
        var unsigned: [UInt64]
        var flags: [Bool]
        var missing: Int?
        var present: Int? = 3
        var empty: [String: Int] = [:]
        var emptyList: [Int] = []
        var nested: [[String: [Int]]]
        var byNumber: [Int: String]
    }

    @Test func scalarsStringsAndEmptyContainers() throws {
        let ascii = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)
        let v = Scalars(
            strings: [ascii, "é ü 漢字 😀 \u{2028}\u{2029}", "/proc/1/smaps", "", "\"quoted\" \\ back"],
            doubles: [0, -0.0, 50, 0.5, 0.1, 1e-05, 123.456, 1e16, 1.2345678901234568e+20, 1e300, -2.5, 99.99999, Double.ulpOfOne, 1.0 / 3],
            ints: [0, -1, Int.max, Int.min, 42],
            unsigned: [0, UInt64.max],
            flags: [true, false],
            nested: [["b": [1, 2], "a": [], "A": [3], "a_b": [4], "aB": [5]], [:]],
            byNumber: [10: "ten", 2: "two", 1: "one"])
        try Self.expectSame(v, "scalars")
        // Not a string of a comparison between two empty results: it holds the values.
        #expect(try Self.ours(v).contains("\"a_b\" : [\n"))
    }

    /// JSONBytes stages pieces in 64 KiB blocks: a string longer than a
    /// block, and pieces that straddle block boundaries, come out whole.
    @Test func piecesLongerThanTheStagingBlock() throws {
        let long = String(repeating: "p", count: 200_000) + "\"end\""
        let v = Scalars(strings: (0..<3000).map { "piece \($0)" } + [long], doubles: [], ints: Array(0..<5000),
                        unsigned: [], flags: [], nested: [], byNumber: [:])
        try Self.expectSame(v, "long pieces")
        #expect(try Self.ours(v).utf8.count > 300_000)
    }

    @Test func aNonFiniteNumberIsRefusedAsJSONEncoderRefusesIt() {
        #expect(throws: EncodingError.self) { try PrettyJSONEncoder.encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try PrettyJSONEncoder.encode(["x": Double.infinity]) }
    }
}
