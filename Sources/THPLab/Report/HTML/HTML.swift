import FoundationEssentials

/// The pieces of thplab's self-contained HTML: escaping (every name from
/// the system goes through `escape`), the page with its inline CSS, tables,
/// and the colours of page classes and mapping states. No script, no
/// external font or file: the page works offline.
public enum HTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static let css = """
        .panels { display: flex; flex-wrap: wrap; gap: 8px; }
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1b1b;background:#fff}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd}
        h3{font-size:15px;margin:18px 0 4px}
        table{border-collapse:collapse;margin:6px 0 12px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
        th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}
        .state{border-radius:3px;padding:1px 6px;color:#fff;white-space:nowrap}
        .ok{color:#1b5e20;font-weight:600}.bad{color:#b71c1c;font-weight:600}
        .muted{color:#666}.legend span{display:inline-block;margin-right:14px}
        .swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border:1px solid #999}
        svg{display:block;margin:6px 0 14px}svg text{font:12px system-ui,sans-serif;fill:#333}svg text.pointlabel{font-size:10px}
        code,pre{font:12px ui-monospace,monospace}pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:420px}
        .disagree{background:#fff3e0}
        """

    /// A whole page: a title and the sections, each already HTML.
    public static func page(title: String, sections: [String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>\(css)</style></head>
        <body><h1>\(escape(title))</h1>
        \(sections.joined(separator: "\n"))
        <p class="muted">Written by thplab. Self-contained: no script, no external file.</p>
        </body></html>

        """
    }

    /// A table; `rows` cells are HTML already (escape what came from the system).
    static func table(_ header: [String], _ rows: [[String]], rowClass: (Int) -> String? = { _ in nil }) -> String {
        var s = header.isEmpty ? "<table>\n" : "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for (i, r) in rows.enumerated() {
            let cls = rowClass(i).map { " class=\"\($0)\"" } ?? ""
            s += "<tr\(cls)>" + r.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        return s + "</table>"
    }

    /// Key-value lines of a summary.
    static func facts(_ pairs: [(String, String)]) -> String {
        table([], pairs.map { ["<b>\(escape($0.0))</b>", escape($0.1)] })
    }

    static func list(_ items: [String]) -> String {
        items.isEmpty ? "" : "<ul>" + items.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
    }

    static let classColors: [PageClass: String] = [
        .pmd: "#2e7d32", .pteThp: "#ef8f00", .mthp: "#1565c0", .small: "#9e9e9e", .swapped: "#6a1b9a", .none: "#f1f1f1",
    ]

    static func stateColor(_ state: String?) -> String {
        switch state {
        case "pmd-mapped": return "#2e7d32"
        case "pte-mapped": return "#ef8f00"
        case "not-resident": return "#757575"
        default: return "#9e9e9e"
        }
    }

    static func state(_ s: String?) -> String {
        "<span class=\"state\" style=\"background:\(stateColor(s))\">\(escape(s ?? "-"))</span>"
    }

    static func verdict(_ ok: Bool) -> String {
        ok ? "<span class=\"ok\">every expectation met</span>" : "<span class=\"bad\">the kernel did something else</span>"
    }

    /// mTHP cells on one blue scale by folio size: 8k light, 1M dark.
    static let mthpScale = ["#bbdefb", "#90caf9", "#64b5f6", "#42a5f5", "#1e88e5", "#1565c0", "#0d47a1", "#082a66"]

    static func mthpColor(sizeKB: Int) -> String {
        var i = 0, s = 8
        while s < sizeKB && i < mthpScale.count - 1 { s *= 2; i += 1 }
        return mthpScale[i]
    }

    static func mthpLegend(_ sizes: [Int]) -> String {
        sizes.isEmpty ? "" : "<p class=\"legend\">mTHP by size: " + sizes.sorted().map {
            "<span><i class=\"swatch\" style=\"background:\(mthpColor(sizeKB: $0))\"></i>\(FolioSizes.kB($0))</span>"
        }.joined() + "</p>"
    }

    static func classLegend() -> String {
        "<p class=\"legend\">" + PageClass.allCases.map {
            "<span><i class=\"swatch\" style=\"background:\(classColors[$0]!)\"></i>\($0.label)</span>"
        }.joined() + "</p>"
    }

    static func hex(_ v: UInt) -> String { "0x" + String(v, radix: 16) }

    /// An options struct as one line of `key=value`, sorted by key.
    static func optionsLine<T: Encodable>(_ options: T) -> String {
        guard let bytes = try? JSONOutput.encode(options),
              case .object(let dict)? = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { return "" }
        return dict.keys.sorted().map { "\($0)=\(dict[$0]!.text)" }.joined(separator: ", ")
    }
}
