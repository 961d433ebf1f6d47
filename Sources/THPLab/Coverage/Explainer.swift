import Foundation

/// Why one VMA is or is not on huge pages, and what would stop a collapse.
public struct VmaExplanation: Codable, Sendable {
    public var start: UInt
    public var end: UInt
    public var name: String
    public var kind: String
    /// smaps' `THPeligible` (the kernel's own verdict for khugepaged/faults).
    public var thpEligible: Bool?
    /// The VmFlags that matter to THP: hg (MADV_HUGEPAGE), nh
    /// (MADV_NOHUGEPAGE), uw (userfaultfd write-protect), ex, sh, wr.
    public var flags: [String]
    /// Anonymous kB in a file mapping (copy-on-write pages: an anon_vma).
    public var anonKBInFileMapping: Int
    /// Whether address and file offset agree modulo 2 MiB (file and shmem).
    public var aligned: Bool?
    /// Whole 2 MiB-aligned extents inside the VMA.
    public var wholeExtents: Int
    /// kB per page class now.
    public var classesKB: [String: Int]
    public var coveragePercent: Double
    /// What would stop a collapse here, each inferred from state and the
    /// kernel's rules (not observed).
    public var blockers: [String]
    public var verdict: String

    enum CodingKeys: String, CodingKey {
        case start, end, name, kind, thpEligible = "thp_eligible", flags, anonKBInFileMapping = "anon_kb_in_file_mapping"
        case aligned, wholeExtents = "whole_extents", classesKB = "classes_kb", coveragePercent = "coverage_percent"
        case blockers, verdict
    }
}

public struct ExplainResult: Codable, Sendable {
    public var schemaVersion = 1
    public var kind = "explain"
    public var kernelRelease: String
    public var pid: Int32
    public var comm: String
    public var knobs: [String: String]
    public var vmas: [VmaExplanation]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", kind, kernelRelease = "kernel_release", pid, comm, knobs, vmas, notes
    }
}

/// `thplab explain`: for any process, per VMA, what the kernel's rules say
/// about huge pages there, without changing anything.
public enum Explainer {
    public struct Context: Sendable {
        public var knobs: [String: String]
        public var readOnlyThpForFS: Bool?
        /// `huge=` of the tmpfs holding a file, by path.
        public var mountHuge: @Sendable (String) -> String?
    }

    public static func explain(pid: Int32, address: UInt?) throws -> ExplainResult {
        let release = Sys.uname().release
        let snapshot = try SnapshotTaker.process(pid: pid, withPages: false)
        let knobs = THPSysfs().readAll().mapValues(\.current)
        let mounts = FileIO.readIfPresent("/proc/mounts")
        let ctx = Context(knobs: knobs, readOnlyThpForFS: KernelConfig.load(release: release).isSet("CONFIG_READ_ONLY_THP_FOR_FS"),
                          mountHuge: { MountTable.hugeOption(of: $0, mountsText: mounts) })
        var vmas = snapshot.vmas
        if let address {
            vmas = vmas.filter { $0.start <= address && address < $0.end }
            guard !vmas.isEmpty else { throw THPLabError.usage("pid \(pid) has no VMA at \(hex(address))") }
        }
        return ExplainResult(kernelRelease: release, pid: pid, comm: snapshot.comm, knobs: knobs,
                             vmas: vmas.map { explain($0, ctx) }, notes: snapshot.notes)
    }

    /// The pure part: one VMA (with its smaps figures) and the host's settings.
    public static func explain(_ v: VmaCoverage, _ ctx: Context) -> VmaExplanation {
        let flags = v.vmFlags.filter { ["hg", "nh", "uw", "ex", "sh", "wr"].contains($0) }
        let huge = UInt(2 << 20)
        let whole = Int(((v.end & ~(huge - 1)) > ((v.start + huge - 1) & ~(huge - 1)))
                        ? ((v.end & ~(huge - 1)) - ((v.start + huge - 1) & ~(huge - 1))) / huge : 0)
        var aligned: Bool?
        if v.kind != "anon" {
            aligned = (UInt64(v.start / 4096) &- v.backing.offset / 4096) % 512 == 0
        }
        let anonInFile = v.kind == "anon" ? 0 : (v.smaps["Anonymous"] ?? v.pages.anon * 4)
        var blockers: [String] = []
        func inferred(_ s: String) { blockers.append("inferred: " + s) }
        if whole == 0 { inferred("no whole 2 MiB-aligned extent fits in this VMA: no PMD is possible") }
        if aligned == false { inferred("address not congruent to file offset modulo 2 MiB: thp_vma_suitable_order() allows no PMD") }
        if flags.contains("nh") { inferred("MADV_NOHUGEPAGE (VmFlags nh): no collapse, and since 6.12 no PMD at fault") }
        if flags.contains("uw") { inferred("userfaultfd write-protect is armed: retract_page_tables() skips the VMA") }
        if anonInFile > 0 && !flags.contains("sh") {
            inferred("\(anonInFile) kB of copy-on-write pages (an anon_vma): retraction skips this private mapping and collapse_pte_mapped_thp() refuses extents holding them")
        }
        switch v.kind {
        case "anon":
            let enabled = ctx.knobs["hugepages-2048kB/enabled"].flatMap { $0 == "inherit" ? nil : $0 } ?? ctx.knobs["enabled"]
            if enabled == "never" { inferred("THP for anonymous memory is never: khugepaged leaves it (MADV_COLLAPSE would not)") }
            else if enabled == "madvise" && !flags.contains("hg") { inferred("enabled is madvise and the VMA has no MADV_HUGEPAGE: khugepaged and faults leave it small (MADV_COLLAPSE would collapse it)") }
        case "shmem":
            let global = ctx.knobs["shmem_enabled"]
            let setting = global == "deny" || global == "force" ? global
                : v.backing.name.hasPrefix("/memfd:") || v.backing.name.hasPrefix("/SYSV") || v.backing.name.hasPrefix("/dev/zero") ? global
                : ctx.mountHuge(v.backing.name)
            switch setting {
            case "deny"?: inferred("shmem_enabled is deny: no shmem THP at all")
            case "never"?, nil: inferred("shmem huge setting is never (\(global == "never" ? "shmem_enabled" : "the mount's huge=")): khugepaged leaves it; MADV_COLLAPSE would collapse it")
            case "advise"? where !flags.contains("hg"): inferred("shmem huge setting is advise and the VMA has no MADV_HUGEPAGE: khugepaged leaves it")
            default: break
            }
        default:
            if ctx.readOnlyThpForFS != true {
                inferred("a regular file: without CONFIG_READ_ONLY_THP_FOR_FS (\(ctx.readOnlyThpForFS == nil ? "config unknown" : "not set")) neither khugepaged nor MADV_COLLAPSE collapses it; only large folios from the filesystem can be PMD-mapped at fault")
            } else if !flags.contains("ex") || flags.contains("wr") {
                inferred("a regular file collapses only in a read-only executable mapping of a file nobody writes (file_thp_enabled())")
            }
        }
        if v.thpEligible == false {
            blockers.append("the kernel says THPeligible 0 for this VMA")
        }
        let c = v.pages
        let verdict: String
        if c.resident == 0 { verdict = "nothing resident" }
        else if c.pmd == c.resident { verdict = "fully PMD-mapped: nothing to collapse" }
        else if blockers.isEmpty { verdict = "eligible: khugepaged or MADV_COLLAPSE can collapse the \(c.resident - c.pmd) resident pages not on PMDs (a process is only scanned once it is on khugepaged's list)" }
        else { verdict = "\(c.pmd * 4) of \(c.resident * 4) kB PMD-mapped; see the blockers" }
        return VmaExplanation(start: v.start, end: v.end, name: v.backing.name, kind: v.kind, thpEligible: v.thpEligible,
                              flags: flags, anonKBInFileMapping: anonInFile, aligned: aligned, wholeExtents: whole,
                              classesKB: v.kb, coveragePercent: v.coveragePercent, blockers: blockers, verdict: verdict)
    }
}
