/// A tracepoint's `format` file: its fields, its print format, and the
/// number-to-name table of its `result` (read from the running kernel,
/// never hard-coded: 6.18 renumbered the scan results).
public struct TraceFormat: Equatable, Sendable {
    public var name: String
    public var id: Int?
    /// The event's own fields, without the `common_` ones.
    public var fields: [String]
    public var printFormat: String
    /// `result` (or `status`) numbers to names, from `__print_symbolic(...)`.
    public var resultNames: [Int: String]

    public static func parse(_ text: String) -> TraceFormat {
        var f = TraceFormat(name: "", id: nil, fields: [], printFormat: "", resultNames: [:])
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingWhitespace()
            if line.hasPrefix("name:") { f.name = String(line.dropFirst(5).trimmingWhitespace()) }
            else if line.hasPrefix("ID:") { f.id = Int(line.dropFirst(3).trimmingWhitespace()) }
            else if line.hasPrefix("field:"), let semi = line.firstIndex(of: ";") {
                let decl = line[line.index(line.startIndex, offsetBy: 6)..<semi]
                let name = decl.split(separator: " ").last.map { String($0.prefix { $0 != "[" }) } ?? ""
                if !name.hasPrefix("common_") && !name.isEmpty { f.fields.append(name) }
            } else if line.hasPrefix("print fmt:") {
                f.printFormat = String(line.dropFirst(10).trimmingWhitespace())
                // File events name it `result`, the anonymous ones `status`.
                f.resultNames = symbolicTable(f.printFormat, field: "result")
                if f.resultNames.isEmpty { f.resultNames = symbolicTable(f.printFormat, field: "status") }
            }
        }
        return f
    }

    /// The `{N, "name"}` pairs of `__print_symbolic(REC->FIELD, ...)`.
    static func symbolicTable(_ fmt: String, field: String) -> [Int: String] {
        guard let start = fmt.range(of: "__print_symbolic(REC->\(field)") else { return [:] }
        var out: [Int: String] = [:]
        var rest = fmt[start.upperBound...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let pair = rest[rest.index(after: open)..<close]
            let parts = pair.split(separator: ",", maxSplits: 1)
            if parts.count == 2, let n = Int(parts[0].trimmingWhitespace()) {
                out[n] = parts[1].trimmingWhitespace().trimmingCharacters(in: "\"")
            }
            rest = rest[rest.index(after: close)...]
            // The table ends at the call's closing parenthesis.
            if rest.trimmingWhitespace().hasPrefix(")") { break }
        }
        return out
    }
}

/// What khugepaged's scan results mean, by the names the kernel prints.
public enum ScanResultMeaning {
    static let words: [String: String] = [
        "succeeded": "collapsed",
        "exceed_none_pte": "fewer pages present than 512 - max_ptes_none",
        "exceed_swap_pte": "more pages in swap than max_ptes_swap",
        "exceed_shared_pte": "more shared pages than max_ptes_shared",
        "pte_mapped_hugepage": "already a huge page, still mapped by PTEs here (collapse_pte_mapped_thp() comes next)",
        "page_pmd_mapped": "already mapped by a PMD",
        "pte_uffd_wp": "userfaultfd write-protect is armed",
        "alloc_hugepage_fail": "no huge page could be allocated",
        "cgroup_charge_fail": "the memory cgroup charge failed",
        "page_locked": "a page was locked (transient)",
        "page_lru": "a page was not on an LRU list (transient)",
        "page_not_in_lru": "a page was not on an LRU list (transient)",
        "page_count": "a page had an unexpected reference (transient)",
        "scan_aborted": "the scan was aborted (khugepaged had to stop)",
        "vma_check": "the VMA is not eligible (flags, alignment or settings)",
        "truncated": "the file was truncated under the collapse",
        "page_has_private": "a page had private (filesystem) data",
        "store_failed": "the new huge page could not be stored in the page cache",
        "copy_mc": "a memory error while copying",
        "page_dirty_or_writeback": "a page was dirty or under writeback",
        "address_range": "the range is not inside the VMA",
        "any_process": "no process maps the range",
        "lack_referenced_page": "too few recently referenced pages",
        "no_writable_page": "no writable page in the range",
        "page_filled": "the range is already a huge page",
    ]

    /// Plain words for a result name, or the name itself when unknown.
    public static func of(_ name: String) -> String { words[name].map { "\(name): \($0)" } ?? name }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var s = self
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
