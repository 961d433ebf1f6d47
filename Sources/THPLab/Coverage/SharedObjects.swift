/// How one process maps a shared object, and what its next faults will do.
public struct ObjectUse: Codable, Equatable, Sendable {
    public var pid: Int32
    public var comm: String
    public var vmas: Int
    public var residentKB: Int
    public var pmdKB: Int
    public var pteThpKB: Int
    public var mthpKB: Int
    public var smallKB: Int
    /// kB of the object's PMD-sized folios this process does not map now,
    /// in extents where it will get a PMD at its next fault.
    public var pmdAtNextFaultKB: Int
    /// Why this process will or will not map the huge folios with PMDs.
    public var outlook: String

    enum CodingKeys: String, CodingKey {
        case pid, comm, vmas, residentKB = "resident_kb", pmdKB = "pmd_kb", pteThpKB = "pte_thp_kb", mthpKB = "mthp_kb"
        case smallKB = "small_kb", pmdAtNextFaultKB = "pmd_at_next_fault_kb", outlook
    }
}

/// A shmem segment, memfd, tmpfs or regular file mapped by more than one
/// process of the target.
public struct MappedObject: Codable, Equatable, Sendable {
    public var name: String
    public var device: String
    public var inode: UInt64
    public var kind: VmaKind
    /// Distinct pages of the object mapped by any process (copy-on-write
    /// pages of private mappings are not the object's and are left out).
    public var residentKB: Int
    /// Of those, pages of PMD-sized folios (PMD- or PTE-mapped anywhere).
    public var hugeKB: Int
    public var mthpKB: Int
    /// By resident kB, largest first.
    public var processes: [ObjectUse]

    enum CodingKeys: String, CodingKey {
        case name, device, inode, kind, residentKB = "resident_kb", hugeKB = "huge_kb", mthpKB = "mthp_kb", processes
    }

    public var pmdMappedIn: Int { processes.filter { $0.pmdKB > 0 }.count }
}

/// Groups the VMAs of a snapshot by the object behind them. Needs the
/// snapshot's per-page classes (`withPages`) to tell which file pages are
/// in huge folios.
public enum SharedObjects {
    static let pagesPerExtent = UInt64(PageGeometry.pagesPerPmd)

    public static func find(in processes: [ProcessCoverage], minProcesses: Int = 2) -> [MappedObject] {
        struct Key: Hashable { var device: String; var inode: UInt64 }
        var uses: [Key: [(ProcessCoverage, VmaCoverage)]] = [:]
        for p in processes {
            for v in p.vmas where v.kind != .anon && v.backing.inode != 0 {
                uses[Key(device: v.backing.device, inode: v.backing.inode), default: []].append((p, v))
            }
        }
        return uses.values.filter { Set($0.map(\.0.pid)).count >= minProcesses }.map(object)
            .sorted { ($0.residentKB, $0.name) > ($1.residentKB, $1.name) }
    }

    static func object(_ vmas: [(ProcessCoverage, VmaCoverage)]) -> MappedObject {
        var resident = Set<UInt64>(), huge = Set<UInt64>(), mthp = Set<UInt64>()
        var hugeExtents = Set<UInt64>()
        for (_, v) in vmas where v.permissions.contains("s") || v.pages.anon == 0 {
            forEachPage(v) { filePage, letter in
                guard letter != "." && letter != "w" else { return }
                resident.insert(filePage)
                if letter == "P" || letter == "T" { huge.insert(filePage); hugeExtents.insert(filePage / pagesPerExtent) }
                if letter == "m" { mthp.insert(filePage) }
            }
        }
        let byPid = Dictionary(grouping: vmas, by: { $0.0.pid })
        let uses = byPid.values.map { use($0, hugeExtents: hugeExtents) }
            .sorted { ($0.residentKB, $1.pid) > ($1.residentKB, $0.pid) }
        let first = vmas[0].1
        return MappedObject(name: first.backing.name, device: first.backing.device, inode: first.backing.inode, kind: first.kind,
                            residentKB: resident.count * PageGeometry.pageKB, hugeKB: huge.count * PageGeometry.pageKB, mthpKB: mthp.count * PageGeometry.pageKB, processes: uses)
    }

    /// Calls `body(file page index, class letter)` for every page of the
    /// VMA's extents.
    static func forEachPage(_ v: VmaCoverage, _ body: (UInt64, Character) -> Void) {
        let base = v.backing.offset / UInt64(PageGeometry.pageSize)
        for e in v.extents {
            guard let letters = e.pageClasses else { continue }
            var page = base + UInt64((e.start - v.start) / UInt(PageGeometry.pageSize))
            for l in letters { body(page, l); page += 1 }
        }
    }

    static func use(_ vmas: [(ProcessCoverage, VmaCoverage)], hugeExtents: Set<UInt64>) -> ObjectUse {
        let p = vmas[0].0
        var total = ClassCounts()
        var pending = 0
        var blockers: [String] = []
        for (_, v) in vmas {
            total += v.pages
            let why = VmaRules.pmdBlocker(v)
            if let why { blockers.append(why); continue }
            pending += pmdAtNextFault(v, hugeExtents: hugeExtents)
        }
        let c = total.kb()
        var outlook: String
        if let b = blockers.first {
            outlook = "PTEs only here: " + b
        } else if pending > 0 {
            outlook = "\(mib(pending * PageGeometry.pageKB)) of huge folios not mapped here: PMD-mapped at this process's next fault there (its page table was retracted or never filled)"
        } else if total.pteThp > 0 {
            outlook = "PTE-mapped huge folios stay so until khugepaged or MADV_COLLAPSE visits this process (collapse_pte_mapped_thp)"
        } else if total.pmd > 0 && total.pmd == total.resident {
            outlook = "PMD-mapped"
        } else {
            outlook = "no huge folio of the object where this process maps it"
        }
        return ObjectUse(pid: p.pid, comm: p.comm, vmas: vmas.count, residentKB: total.resident * PageGeometry.pageKB, pmdKB: c["pmd"] ?? 0,
                         pteThpKB: c["pte_thp"] ?? 0, mthpKB: c["mthp"] ?? 0, smallKB: c["small"] ?? 0,
                         pmdAtNextFaultKB: pending * PageGeometry.pageKB, outlook: outlook)
    }

    static func mib(_ kb: Int) -> String { kb >= 1024 ? "\(kb / 1024) MiB" : "\(kb) kB" }

    /// Pages of the object's huge extents that fall on whole aligned
    /// extents of this VMA where the process maps nothing yet.
    static func pmdAtNextFault(_ v: VmaCoverage, hugeExtents: Set<UInt64>) -> Int {
        let size = UInt(PageGeometry.pmdSize)
        var n = 0
        var a = (v.start + size - 1) & ~(size - 1)
        let mappedByExtent = Dictionary(v.extents.map { ($0.start & ~(size - 1), $0.pages.resident) }, uniquingKeysWith: +)
        while a + size <= v.end {
            let filePage = v.backing.offset / UInt64(PageGeometry.pageSize) + UInt64((a - v.start) / UInt(PageGeometry.pageSize))
            if hugeExtents.contains(filePage / pagesPerExtent), (mappedByExtent[a] ?? 0) == 0 { n += PageGeometry.pagesPerPmd }
            a += size
        }
        return n
    }
}

/// The kernel's rules for one VMA, shared by explain and the object view.
public enum VmaRules {
    /// Whether address and file offset agree modulo 2 MiB (file and shmem).
    public static func aligned(_ v: VmaCoverage) -> Bool? {
        v.kind == .anon ? nil : (UInt64(v.start / UInt(PageGeometry.pageSize)) &- v.backing.offset / UInt64(PageGeometry.pageSize)) % UInt64(PageGeometry.pagesPerPmd) == 0
    }

    /// Copy-on-write (anonymous) kB in a private file or shmem mapping.
    public static func cowKB(_ v: VmaCoverage) -> Int {
        guard v.kind != .anon, !v.vmFlags.contains("sh") else { return 0 }
        return v.smaps["Anonymous"] ?? v.pages.anon * PageGeometry.pageKB
    }

    /// Why this VMA can map no huge folio with a PMD at all, or nil.
    public static func pmdBlocker(_ v: VmaCoverage) -> String? {
        if aligned(v) == false { return "address not congruent to the file offset modulo 2 MiB (thp_vma_suitable_order() allows no PMD)" }
        if v.vmFlags.contains("nh") { return "MADV_NOHUGEPAGE (no PMD at fault since 6.12)" }
        if cowKB(v) > 0 { return "copy-on-write pages gave it an anon_vma (retract_page_tables() skips it)" }
        if v.vmFlags.contains("uw") { return "userfaultfd write-protect armed (retract_page_tables() skips it)" }
        return nil
    }
}
