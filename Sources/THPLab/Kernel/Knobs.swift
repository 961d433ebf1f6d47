/// The THP and khugepaged knobs under /sys/kernel/mm/transparent_hugepage.
/// A knob is named by its path below that directory (`shmem_enabled`,
/// `khugepaged/max_ptes_none`, `hugepages-2048kB/shmem_enabled`). Only names
/// from the fixed catalogue are ever read for writing or written.
public struct KnobRule: Sendable {
    /// Allowed numeric range for numeric knobs; nil for choice knobs, whose
    /// allowed values are read from the file itself.
    public var range: ClosedRange<Int>?
    /// The kernel's default (mm/huge_memory.c, mm/khugepaged.c).
    public var kernelDefault: String?
}

public struct THPSysfs: Sendable {
    public var root: String

    public static let defaultRoot = "/sys/kernel/mm/transparent_hugepage"

    public init(root: String = THPSysfs.defaultRoot) { self.root = root }

    public var isPresent: Bool { Sys.isDirectory(root) }

    /// The fixed catalogue of writable knobs, with numeric ranges and defaults.
    static let fixedKnobs: [String: KnobRule] = [
        "enabled": KnobRule(range: nil, kernelDefault: nil),  // build-time choice
        "defrag": KnobRule(range: nil, kernelDefault: "madvise"),
        "shmem_enabled": KnobRule(range: nil, kernelDefault: "never"),
        "use_zero_page": KnobRule(range: 0...1, kernelDefault: "1"),
        "shrink_underused": KnobRule(range: 0...1, kernelDefault: "1"),
        "khugepaged/defrag": KnobRule(range: 0...1, kernelDefault: "1"),
        "khugepaged/max_ptes_none": KnobRule(range: 0...511, kernelDefault: "511"),
        "khugepaged/max_ptes_swap": KnobRule(range: 0...511, kernelDefault: "64"),
        "khugepaged/max_ptes_shared": KnobRule(range: 0...511, kernelDefault: "256"),
        "khugepaged/pages_to_scan": KnobRule(range: 1...Int(Int32.max), kernelDefault: "4096"),
        "khugepaged/scan_sleep_millisecs": KnobRule(range: 0...Int(UInt32.max), kernelDefault: "10000"),
        "khugepaged/alloc_sleep_millisecs": KnobRule(range: 0...Int(UInt32.max), kernelDefault: "60000"),
    ]

    /// The rule for a knob name, or nil when thplab never writes it.
    /// Per-size knobs (`hugepages-<N>kB/enabled`, `.../shmem_enabled`) are
    /// accepted for any size the kernel lists.
    public static func rule(for name: String) -> KnobRule? {
        if let r = fixedKnobs[name] { return r }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, isSizeDirectory(parts[0]), parts[1] == "enabled" || parts[1] == "shmem_enabled" {
            return KnobRule(range: nil, kernelDefault: nil)
        }
        return nil
    }

    static func isSizeDirectory(_ s: Substring) -> Bool { PerSizeStats.sizeKB(directory: s) != nil }

    /// Every catalogued knob present on this kernel, in a stable order:
    /// globals, khugepaged, then per-size knobs by size.
    public func presentKnobs() -> [String] {
        var names = Self.fixedKnobs.keys.sorted { order($0) < order($1) }
        let sizes = (try? Sys.listDirectory(root))?.filter { Self.isSizeDirectory($0[...]) } ?? []
        for size in sizes.sorted(by: { sizeKB($0) < sizeKB($1) }) {
            names.append("\(size)/enabled")
            names.append("\(size)/shmem_enabled")
        }
        return names.filter { Sys.exists(path($0)) }
    }

    private func order(_ name: String) -> (Int, String) { (name.contains("/") ? 1 : 0, name) }
    private func sizeKB(_ dir: String) -> Int { PerSizeStats.sizeKB(directory: dir[...]) ?? 0 }

    public func path(_ name: String) -> String { root + "/" + name }

    /// Reads a knob (or a counter such as `khugepaged/full_scans`).
    public func read(_ name: String) throws -> SysfsValue {
        SysfsValue.parse(try FileIO.read(path(name), limit: 4096))
    }

    /// Reads every present knob.
    public func read(_ knob: Knob) throws -> SysfsValue { try read(knob.rawValue) }

    /// A numeric file (a counter such as `khugepaged/full_scans`), or nil.
    public func number(_ knob: Knob) -> Int64? { (try? read(knob)).flatMap { Int64($0.current) } }

    public func readAll() -> [String: SysfsValue] {
        var out: [String: SysfsValue] = [:]
        for name in presentKnobs() { out[name] = try? read(name) }
        return out
    }

    /// Checks that `value` may be written to knob `name`: a catalogued name
    /// that is no path trick, present on this kernel, and a value among the
    /// file's own options or inside the numeric range.
    public func validate(name: String, value: String) throws {
        guard !name.hasPrefix("/"), !name.contains(".."), let rule = Self.rule(for: name) else {
            throw THPLabError.usage("'\(name)' is not a THP knob thplab may write; see `thplab doctor` for the list")
        }
        let p = path(name)
        guard Sys.exists(p), !Sys.isSymlink(p) else {
            throw THPLabError.unsupported("this kernel has no knob \(p)")
        }
        if let range = rule.range {
            guard let n = Int(value), range.contains(n) else {
                throw THPLabError.usage("\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(value)'")
            }
            return
        }
        let current = try read(name)
        guard current.options.contains(value) else {
            throw THPLabError.usage("\(name) takes one of \(current.options.joined(separator: ", ")), not '\(value)'")
        }
    }

    /// Writes a validated value. Callers go through `HostGuard`, which
    /// journals the original first.
    func write(name: String, value: String) throws {
        try validate(name: name, value: value)
        if case .failure(let e) = FileIO.writeExisting(path(name), value) {
            throw THPLabError.system("cannot write '\(value)' to \(path(name))", e)
        }
    }
}
