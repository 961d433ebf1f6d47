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
    /// The `key=` names the event prints, in order (from the print format's
    /// string): how a line of the `trace` file is cut into fields.
    public var keys: [String] = []

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
                f.keys = printedKeys(f.printFormat)
                // File events name it `result`, the anonymous ones `status`.
                f.resultNames = symbolicTable(f.printFormat, field: "result")
                if f.resultNames.isEmpty { f.resultNames = symbolicTable(f.printFormat, field: "status") }
            }
        }
        return f
    }

    /// The `name=` keys of the quoted part of a print format.
    static func printedKeys(_ fmt: String) -> [String] {
        guard fmt.first == "\"", let close = fmt.dropFirst().firstIndex(of: "\"") else { return [] }
        var keys: [String] = []
        for piece in fmt[fmt.index(after: fmt.startIndex)..<close].split(whereSeparator: { $0 == "," || $0 == " " }) {
            let p = piece.trimmingWhitespace()
            if let eq = p.firstIndex(of: "="), p[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                keys.append(String(p[..<eq]))
            }
        }
        return keys
    }

    /// The `{N, "name"}` pairs of `__print_symbolic(REC->FIELD, ...)`.
    static func symbolicTable(_ fmt: String, field: String) -> [Int: String] {
        guard let start = fmt.firstRange(of: "__print_symbolic(REC->\(field)") else { return [:] }
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
    /// The results thplab's code tells apart, as the kernel names them.
    public static let succeeded = "succeeded", pteMappedHugepage = "pte_mapped_hugepage", scanAborted = "scan_aborted"

    /// Every name the 6.1 and 6.18 format files list (unit-tested).
    static let words: [String: String] = [
        "failed": "failed",
        succeeded: "collapsed",
        "pmd_null": "no page table at this address yet",
        "pmd_none": "the PMD is empty",
        "page_pmd_mapped": "already mapped by a PMD",
        "exceed_none_pte": "fewer pages present than 512 - max_ptes_none",
        "exceed_swap_pte": "more pages in swap than max_ptes_swap",
        "exceed_shared_pte": "more shared pages than max_ptes_shared",
        "pte_non_present": "a PTE is not present (swap or migration entry)",
        "pte_uffd_wp": "userfaultfd write-protect is armed",
        pteMappedHugepage: "already a huge page, still mapped by PTEs here (collapse_pte_mapped_thp() comes next)",
        "no_writable_page": "no writable page in the range",
        "lack_referenced_page": "too few recently referenced pages",
        "page_null": "no page where one was expected",
        scanAborted: "the scan was aborted (khugepaged had to stop)",
        "not_suitable_page_count": "a page had an unexpected reference (transient)",
        "page_not_in_lru": "a page was not on an LRU list (transient)",
        "page_locked": "a page was locked (transient)",
        "page_not_anon": "a page is not anonymous",
        "page_compound": "a page is already part of a large folio",
        "no_process_for_page": "no process maps the page",
        "vma_null": "no VMA at the address any more",
        "vma_check_failed": "the VMA is not eligible (flags, alignment or settings)",
        "not_suitable_address_range": "the range is not inside the VMA",
        "could_not_delete_page_from_lru": "a page could not be taken off its LRU list",
        "alloc_huge_page_failed": "no huge page could be allocated",
        "ccgroup_charge_failed": "the memory cgroup charge failed",
        "truncated": "the file was truncated under the collapse",
        "page_has_private": "a page had private (filesystem) data",
        "store_failed": "the new huge page could not be stored in the page cache",
        "copy_poisoned_page": "a memory error while copying",
        "page_filled": "the range is already a huge page",
        "page_dirty_or_writeback": "a page was dirty or under writeback",
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
