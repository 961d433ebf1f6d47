
/// Compares two snapshots: processes by pid, VMAs by backing identity
/// (device, inode, offset, name) and range.
public enum SnapshotDiff {
    /// Reads a snapshot file, refusing anything that is not one with a
    /// message that says what is wrong (exit code 2).
    public static func load(_ path: String) throws -> SnapshotResult {
        let result = try ResultFile.read(path)
        guard case .snapshot(let s) = result else {
            throw THPLabError.usage("\(path) is a thplab \(result.kind) result, not a snapshot: write one with `thplab snapshot --json`")
        }
        return s
    }

    public static func diff(before: SnapshotResult, after: SnapshotResult) -> DiffResult {
        var notes: [String] = []
        var processes: [ProcessDiff] = []
        for a in after.processes {
            guard let b = before.processes.first(where: { $0.pid == a.pid }) else {
                notes.append("pid \(a.pid) is only in the second snapshot")
                continue
            }
            if b.comm != a.comm { notes.append("pid \(a.pid) was \(b.comm) and is \(a.comm): perhaps a different process") }
            processes.append(diff(before: b, after: a))
        }
        for b in before.processes where !after.processes.contains(where: { $0.pid == b.pid }) {
            notes.append("pid \(b.pid) is only in the first snapshot")
        }
        var system: SystemCounters?
        if let a = after.system, let b = before.system { system = a.delta(since: b) }
        else if after.system != nil || before.system != nil { notes.append("only one snapshot has the system counters (--system): no system delta") }
        return DiffResult(beforeTakenAt: before.takenAt, afterTakenAt: after.takenAt, processes: processes, system: system, notes: notes)
    }

    public static func diff(before: ProcessCoverage, after: ProcessCoverage) -> ProcessDiff {
        var unmatched = before.vmas
        var vmas: [VmaDiff] = []
        for a in after.vmas {
            let i = unmatched.firstIndex { $0.backing == a.backing && $0.start == a.start && $0.end == a.end }
                ?? unmatched.firstIndex { sameIdentity($0.backing, a.backing) && $0.start < a.end && a.start < $0.end }
            if let i {
                vmas.append(vmaDiff(before: unmatched[i], after: a))
                unmatched.remove(at: i)
            } else {
                vmas.append(vmaDiff(before: nil, after: a))
            }
        }
        vmas += unmatched.map { vmaDiff(before: $0, after: nil) }
        vmas.sort { $0.start < $1.start }
        let became = vmas.reduce(0) { $0 + max(0, $1.pmdDeltaKB) }
        let stopped = vmas.reduce(0) { $0 + max(0, -$1.pmdDeltaKB) }
        return ProcessDiff(pid: after.pid, comm: after.comm, vmas: vmas, totalsBeforeKB: before.totals.kb(),
                           totalsAfterKB: after.totals.kb(), coverageBefore: before.coveragePercent,
                           coverageAfter: after.coveragePercent, becameHugeKB: became, stoppedHugeKB: stopped)
    }

    /// Same backing, allowing the offset to move with the start (a VMA that
    /// grew or shrank at its front).
    static func sameIdentity(_ a: VmaBacking, _ b: VmaBacking) -> Bool {
        a.name == b.name && a.device == b.device && a.inode == b.inode
    }

    static func vmaDiff(before b: VmaCoverage?, after a: VmaCoverage?) -> VmaDiff {
        let v = (a ?? b)!
        let pmdBefore = (b?.pages.pmd ?? 0) * PageGeometry.pageKB, pmdAfter = (a?.pages.pmd ?? 0) * PageGeometry.pageKB
        var became = 0, left = 0
        if let b, let a {
            let wasPmd = Set(b.extents.filter { $0.pages.pmd > 0 }.map(\.start))
            let isPmd = Set(a.extents.filter { $0.pages.pmd > 0 }.map(\.start))
            became = isPmd.subtracting(wasPmd).count
            left = wasPmd.subtracting(isPmd).count
        }
        let mthpBefore = b?.pages.mthpSizesKB ?? [:], mthpAfter = a?.pages.mthpSizesKB ?? [:]
        let change: String
        switch (pmdAfter - pmdBefore, became, left) {
        case (0, 0, 0): change = mthpBefore == mthpAfter ? "unchanged" : "mthp changed"
        case (_, _, 0) where pmdAfter > pmdBefore || became > 0: change = "became huge"
        case (_, 0, _) where pmdAfter < pmdBefore || left > 0: change = "stopped being huge"
        default: change = "mixed"
        }
        return VmaDiff(start: v.start, end: v.end, backing: v.backing,
                       presence: b == nil ? "appeared" : a == nil ? "disappeared" : "matched",
                       beforeKB: b?.kb, afterKB: a?.kb, pmdDeltaKB: pmdAfter - pmdBefore,
                       coverageBefore: b?.coveragePercent, coverageAfter: a?.coveragePercent,
                       extentsBecamePmd: became, extentsLeftPmd: left, change: change,
                       mthpBeforeKB: b.map { _ in mthpBefore }, mthpAfterKB: a.map { _ in mthpAfter })
    }
}
