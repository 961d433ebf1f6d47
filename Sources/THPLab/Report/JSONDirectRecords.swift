/// The records a large result holds thousands of, written straight into
/// the output (PrettyJSONWritable) instead of through a tree of nodes: a
/// dense 8 GiB snapshot has 4096 extents, each with its page classes.
/// Keys are written in the order JSONEncoder's sorted keys give them.
extension JSONTreeWriter {
    /// An object being written: `{`, then each key in turn, then `}`.
    struct PrettyObject {
        let level: Int
        private var first = true

        init(level: Int, into out: inout JSONBytes) {
            self.level = level
            out.append(UInt8(ascii: "{"))
            out.append(JSONTreeWriter.newline)
        }

        mutating func key(_ name: StaticString, into out: inout JSONBytes) {
            if !first { out.append(UInt8(ascii: ",")); out.append(JSONTreeWriter.newline) }
            first = false
            JSONTreeWriter.indent(level + 1, into: &out)
            out.append(UInt8(ascii: "\""))
            out.append(name)
            out.append(UInt8(ascii: "\""))
            out.append(JSONTreeWriter.keySeparator)
        }

        func end(into out: inout JSONBytes) {
            out.append(JSONTreeWriter.newline)
            JSONTreeWriter.indent(level, into: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A whole number in decimal, as String(v) gives it.
    static func writeInt(_ v: Int, into out: inout JSONBytes) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        writeUInt(v.magnitude, into: &out)
    }

    static func writeUInt(_ v: UInt, into out: inout JSONBytes) {
        var digits = 1, rest = v / 10
        while rest > 0 { digits += 1; rest /= 10 }
        let at = out.room(digits)  // UInt.max has 20 digits
        var n = v, i = digits
        repeat {
            i -= 1
            at[i] = UInt8(ascii: "0") + UInt8(n % 10)
            n /= 10
        } while n > 0
        out.commit(digits)
    }

    /// A [String: Int] as an object, keys sorted by their UTF-8 bytes.
    static func writeCounts(_ d: [String: Int], level: Int, into out: inout JSONBytes) {
        out.append(UInt8(ascii: "{"))
        out.append(newline)
        var first = true
        for key in d.isEmpty ? [] : d.keys.sorted(by: precedes) {
            if !first { out.append(UInt8(ascii: ",")); out.append(newline) }
            first = false
            indent(level + 1, into: &out)
            writeString(key, into: &out)
            out.append(keySeparator)
            writeInt(d[key]!, into: &out)
        }
        out.append(newline)
        indent(level, into: &out)
        out.append(UInt8(ascii: "}"))
    }
}

extension ClassCounts: PrettyJSONWritable {
    func writePrettyJSON(level: Int, into out: inout JSONBytes) {
        var o = JSONTreeWriter.PrettyObject(level: level, into: &out)
        o.key("anon", into: &out); JSONTreeWriter.writeInt(anon, into: &out)
        o.key("mthp", into: &out); JSONTreeWriter.writeInt(mthp, into: &out)
        o.key("mthp_sizes_kb", into: &out); JSONTreeWriter.writeCounts(mthpSizes, level: level + 1, into: &out)
        o.key("none", into: &out); JSONTreeWriter.writeInt(none, into: &out)
        o.key("pmd", into: &out); JSONTreeWriter.writeInt(pmd, into: &out)
        o.key("pte_thp", into: &out); JSONTreeWriter.writeInt(pteThp, into: &out)
        o.key("small", into: &out); JSONTreeWriter.writeInt(small, into: &out)
        o.key("swapped", into: &out); JSONTreeWriter.writeInt(swapped, into: &out)
        o.end(into: &out)
    }
}

extension ExtentCoverage: PrettyJSONWritable {
    func writePrettyJSON(level: Int, into out: inout JSONBytes) {
        var o = JSONTreeWriter.PrettyObject(level: level, into: &out)
        o.key("end", into: &out); JSONTreeWriter.writeUInt(end, into: &out)
        if let nodes { o.key("nodes", into: &out); JSONTreeWriter.writeCounts(nodes, level: level + 1, into: &out) }
        if let pageClasses { o.key("page_classes", into: &out); JSONTreeWriter.writeString(pageClasses, into: &out) }
        o.key("pages", into: &out); pages.writePrettyJSON(level: level + 1, into: &out)
        o.key("start", into: &out); JSONTreeWriter.writeUInt(start, into: &out)
        o.end(into: &out)
    }
}

/// A list of records that write themselves is one node of the tree, not a
/// boxed value for each record.
extension Array: PrettyJSONWritable where Element: PrettyJSONWritable {
    func writePrettyJSON(level: Int, into out: inout JSONBytes) {
        withUnsafeBufferPointer { items in
            JSONTreeWriter.writeList(count: items.count, level: level, into: &out) { i, out in items[i].writePrettyJSON(level: level + 1, into: &out) }
        }
    }
}
