/// Which memory a multi-size THP run is about: anonymous memory (per-size
/// `enabled`, 6.8~) or shmem (per-size `shmem_enabled`, 6.11~).
public enum MthpMemory: String, Codable, CaseIterable, Sendable {
    case anon, shmem

    /// The per-size policy file's name.
    public var knobFile: String { self == .anon ? "enabled" : "shmem_enabled" }
    /// The global knob `inherit` resolves to.
    public var globalKnob: String { self == .anon ? "enabled" : "shmem_enabled" }
    /// The version rule that brought per-size THP for this memory.
    var versionRule: VersionRule { self == .anon ? VersionRules.anonMultiSize : VersionRules.shmemMultiSize }
}

/// The per-size policies in force, `inherit` resolved, and the sizes they
/// allow a VMA. Pure: built from the knob values, unit-tested on fixtures.
public struct MthpPolicies: Codable, Equatable, Sendable {
    /// Folio size in kB -> the per-size file's value, for each memory.
    public var anon: [Int: String]
    public var shmem: [Int: String]
    /// The global `enabled` and `shmem_enabled`.
    public var anonGlobal: String
    public var shmemGlobal: String

    enum CodingKeys: String, CodingKey { case anon, shmem, anonGlobal = "anon_global", shmemGlobal = "shmem_global" }

    public init(knobs: [String: SysfsValue]) {
        func sizes(_ file: String) -> [Int: String] {
            var out: [Int: String] = [:]
            for (name, v) in knobs {
                let parts = name.split(separator: "/")
                guard parts.count == 2, parts[1] == file, let kb = PerSizeStats.sizeKB(directory: parts[0]) else { continue }
                out[kb] = v.current
            }
            return out
        }
        anon = sizes("enabled")
        shmem = sizes("shmem_enabled")
        anonGlobal = knobs["enabled"]?.current ?? "never"
        shmemGlobal = knobs["shmem_enabled"]?.current ?? "never"
    }

    /// The sizes this kernel offers for the memory, smallest first.
    public func offered(_ m: MthpMemory) -> [Int] { (m == .anon ? anon : shmem).keys.sorted() }

    /// The size's policy with `inherit` resolved to the global knob, and
    /// shmem's global `deny` and `force` read as never and always.
    public func effective(_ m: MthpMemory, sizeKB: Int) -> String? {
        guard let own = (m == .anon ? anon : shmem)[sizeKB] else { return nil }
        let v = own == "inherit" ? (m == .anon ? anonGlobal : shmemGlobal) : own
        switch v {
        case "deny": return "never"
        case "force": return "always"
        default: return v
        }
    }

    /// Whether the policy lets a VMA have the size: `always` (and shmem's
    /// `within_size`, for memory inside the file's size) everywhere,
    /// `madvise`/`advise` only with MADV_HUGEPAGE.
    public func allows(_ m: MthpMemory, sizeKB: Int, advised: Bool) -> Bool {
        switch effective(m, sizeKB: sizeKB) {
        case "always", "within_size": return true
        case "madvise", "advise": return advised
        default: return false
        }
    }

    /// The sizes the policies allow, largest first.
    public func allowed(_ m: MthpMemory, advised: Bool) -> [Int] {
        offered(m).filter { allows(m, sizeKB: $0, advised: advised) }.sorted(by: >)
    }

    /// One line per size that is not `never` after `inherit`, for the report.
    public func summary(_ m: MthpMemory) -> String {
        let parts = offered(m).compactMap { kb -> String? in
            guard let raw = (m == .anon ? anon : shmem)[kb], let eff = effective(m, sizeKB: kb), eff != "never" else { return nil }
            return raw == "inherit" ? "\(FolioSizes.kB(kb))=inherit(\(eff))" : "\(FolioSizes.kB(kb))=\(eff)"
        }
        return parts.isEmpty ? "every size never" : parts.joined(separator: " ")
    }
}
