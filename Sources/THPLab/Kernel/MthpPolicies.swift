/// Which memory a multi-size THP run is about: anonymous memory (per-size
/// `enabled`, 6.8~), shmem (a memfd: per-size `shmem_enabled`, 6.11~), or
/// a file on a tmpfs thplab mounts, which per-size policies do not govern:
/// its mount's `huge=` does.
public enum MthpMemory: String, Codable, CaseIterable, Sendable {
    case anon, shmem, tmpfs

    /// The memories with per-size policies, which `run mthp` runs by default.
    public static let perSize: [MthpMemory] = [.anon, .shmem]

    /// The per-size policy file's name (tmpfs: none, shmem's is shown).
    public var knobFile: String { globalKnob }
    /// The per-size policy knob of one size.
    public func knob(kB: Int) -> Knob { self == .anon ? .sizeEnabled(kB: kB) : .sizeShmemEnabled(kB: kB) }
    /// The global knob `inherit` resolves to.
    public var globalKnob: String { (self == .anon ? Knob.enabled : Knob.shmemEnabled).rawValue }
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
    /// The `huge=` of the tmpfs a run mounts; nil: no tmpfs.
    public var tmpfsHuge: String?

    enum CodingKeys: String, CodingKey { case anon, shmem, anonGlobal = "anon_global", shmemGlobal = "shmem_global", tmpfsHuge = "tmpfs_huge" }

    public init(knobs: [String: SysfsValue]) { self.init(values: knobs.mapValues(\.current)) }

    /// From knob name -> current value.
    public init(values: [String: String]) {
        func sizes(_ file: String) -> [Int: String] {
            var out: [Int: String] = [:]
            for (name, v) in values {
                let parts = name.split(separator: "/")
                guard parts.count == 2, parts[1] == file, let kb = PerSizeStats.sizeKB(directory: parts[0]) else { continue }
                out[kb] = v
            }
            return out
        }
        anon = sizes(Knob.enabled.rawValue)
        shmem = sizes(Knob.shmemEnabled.rawValue)
        anonGlobal = values[Knob.enabled.rawValue] ?? "never"
        shmemGlobal = values[Knob.shmemEnabled.rawValue] ?? "never"
    }

    /// The sizes this kernel offers for the memory, smallest first; a
    /// tmpfs mount's fault offers the PMD size only.
    public func offered(_ m: MthpMemory) -> [Int] {
        if m == .tmpfs { return tmpfsHuge == nil ? [] : [PageGeometry.pmdKB] }
        return (m == .anon ? anon : shmem).keys.sorted()
    }

    /// The size's policy with `inherit` resolved to the global knob, and
    /// shmem's global `deny` and `force` read as never and always (tmpfs:
    /// the mount's `huge=` for the PMD size, under the same two).
    public func effective(_ m: MthpMemory, sizeKB: Int) -> String? {
        if m == .tmpfs {
            guard let h = tmpfsHuge, sizeKB == PageGeometry.pmdKB else { return nil }
            return shmemGlobal == "deny" ? "never" : shmemGlobal == "force" ? "always" : h
        }
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

    /// Each offered size for one VMA, largest first: whether a fault may
    /// give it that size now, and if not the first reason why (prctl,
    /// MADV_NOHUGEPAGE, the policy, then the VMA's size and alignment).
    public func verdicts(_ m: MthpMemory, start: UInt, length: Int, fileOffset: UInt?, advised: Bool,
                         noHugepage: Bool, processDisabled: Bool) -> [SizeVerdict] {
        offered(m).sorted(by: >).map { size in
            let why: String?
            if processDisabled { why = "prctl(PR_SET_THP_DISABLE) disabled THP for the process" }
            else if noHugepage { why = "MADV_NOHUGEPAGE" }
            else if !allows(m, sizeKB: size, advised: advised) {
                let eff = effective(m, sizeKB: size) ?? "never"
                why = eff == "never" ? "policy never" : "policy \(eff) and no MADV_HUGEPAGE"
            } else { why = MthpLayout.excluded(sizeKB: size, start: start, length: length, fileOffset: fileOffset) }
            return SizeVerdict(sizeKB: size, allowed: why == nil, why: why ?? "allowed")
        }
    }

    /// One line per size that is not `never` after `inherit`, for the report.
    public func summary(_ m: MthpMemory) -> String {
        if m == .tmpfs {
            return "huge=\(tmpfsHuge ?? "?") (per-size policies do not govern a tmpfs mount: faults get \(FolioSizes.kB(PageGeometry.pmdKB)) or base pages)"
        }
        let parts = offered(m).compactMap { kb -> String? in
            guard let raw = (m == .anon ? anon : shmem)[kb], let eff = effective(m, sizeKB: kb), eff != "never" else { return nil }
            return raw == "inherit" ? "\(FolioSizes.kB(kb))=inherit(\(eff))" : "\(FolioSizes.kB(kb))=\(eff)"
        }
        return parts.isEmpty ? "every size never" : parts.joined(separator: " ")
    }
}

/// Whether a VMA may get one folio size at fault now, and why not.
public struct SizeVerdict: Codable, Equatable, Sendable {
    public var sizeKB: Int
    public var allowed: Bool
    public var why: String

    enum CodingKeys: String, CodingKey { case sizeKB = "size_kb", allowed, why }

    /// `may get 64k 16k; not 2M (larger than the VMA (1M)), 32k 128k (policy never)`:
    /// the reasons grouped, largest size first.
    public static func describe(_ verdicts: [SizeVerdict]) -> String {
        let ok = verdicts.filter(\.allowed).map { FolioSizes.kB($0.sizeKB) }
        var groups: [(String, [Int])] = []
        for v in verdicts where !v.allowed {
            if let i = groups.firstIndex(where: { $0.0 == v.why }) { groups[i].1.append(v.sizeKB) } else { groups.append((v.why, [v.sizeKB])) }
        }
        let not = groups.map { "\($0.1.map(FolioSizes.kB).joined(separator: " ")) (\($0.0))" }
        return (ok.isEmpty ? "no size above the base page" : "may get " + ok.joined(separator: " "))
            + (not.isEmpty ? "" : "; not " + not.joined(separator: ", "))
    }
}
