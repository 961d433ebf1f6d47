import Glibc

/// Writes a JSONNode tree as JSONEncoder's pretty, sorted-keys form: two
/// spaces a level, `"key" : value`, keys in the order of their UTF-8 bytes
/// (a key given twice keeps its last value), an empty container as an open
/// and a close line with an empty line between, `/` unescaped.
enum JSONTreeWriter {
    static func write(_ node: JSONNode, level: Int, into out: inout JSONBytes) {
        switch node {
        case .literal(let s): appendUTF8(s, into: &out)
        case .direct(let d): d.writePrettyJSON(level: level, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            a.items.withUnsafeBufferPointer { items in
                writeList(count: items.count, level: level, into: &out) { i, out in write(items[i], level: level + 1, into: &out) }
            }
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            out.append(newline)
            o.pairs.withUnsafeBufferPointer { pairs in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: pairs.count) { order in
                    sort(pairs, into: order)
                    var first = true
                    for k in order.indices {
                        let pair = pairs[order[k]]
                        // Of equal keys, the last given (sorted last) is kept.
                        if k + 1 < order.count && pairs[order[k + 1]].key == pair.key { continue }
                        if !first { out.append(UInt8(ascii: ",")); out.append(newline) }
                        first = false
                        indent(level + 1, into: &out)
                        writeString(pair.key, into: &out)
                        out.append(keySeparator)
                        write(pair.value, level: level + 1, into: &out)
                    }
                }
            }
            out.append(newline)
            indent(level, into: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `[`, each item on lines of its own at `level + 1`, `]`.
    static func writeList(count: Int, level: Int, into out: inout JSONBytes, item: (Int, inout JSONBytes) -> Void) {
        out.append(UInt8(ascii: "["))
        out.append(newline)
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")); out.append(newline) }
            indent(level + 1, into: &out)
            item(i, &out)
        }
        out.append(newline)
        indent(level, into: &out)
        out.append(UInt8(ascii: "]"))
    }

    static let newline: UInt8 = 0x0A  // "\n", a literal: no lazy global
    static let keySeparator: StaticString = " : "

    static func indent(_ level: Int, into out: inout JSONBytes) {
        var n = 2 * level
        while n > 0 {
            let k = min(n, 256)
            let at = out.room(k)
            for i in 0..<k { at[i] = UInt8(ascii: " ") }
            out.commit(k)
            n -= k
        }
    }

    /// The pairs' indices by key, stably (an insertion sort: objects hold
    /// a few keys).
    private static func sort(_ pairs: UnsafeBufferPointer<(key: String, value: JSONNode)>, into order: UnsafeMutableBufferPointer<Int>) {
        for i in order.indices {
            var j = i
            while j > 0 && precedes(pairs[i].key, pairs[order[j - 1]].key) {
                order[j] = order[j - 1]
                j -= 1
            }
            order[j] = i
        }
    }

    /// Whether `a` sorts before `b` by their UTF-8 bytes.
    static func precedes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { pa in
            b.utf8.withContiguousStorageIfAvailable { pb -> Bool in
                let n = min(pa.count, pb.count)
                let c = n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
                return c < 0 || (c == 0 && pa.count < pb.count)
            }
        }
        return (fast ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private static func appendUTF8(_ s: String, into out: inout JSONBytes) {
        var s = s
        s.withUTF8 { out.append(contentsOf: $0) }
    }

    /// A JSON string: `"` and `\` escaped, control characters as \b \f
    /// \n \r \t or \u00XX, everything else (UTF-8 included) as it is.
    static func writeString(_ s: String, into out: inout JSONBytes) {
        out.append(UInt8(ascii: "\""))
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        } ?? false
        if plain {
            appendUTF8(s, into: &out)
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append("\\\"")
            case UInt8(ascii: "\\"): out.append("\\\\")
            case 0x08: out.append("\\b")
            case 0x0C: out.append("\\f")
            case 0x0A: out.append("\\n")
            case 0x0D: out.append("\\r")
            case 0x09: out.append("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append("\\u00")
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
