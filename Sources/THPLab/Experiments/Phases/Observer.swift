/// Takes the per-mapping observations of a phase: smaps once per process,
/// the page census per mapping.
struct Observer {
    struct Slot {
        var hostIndex: Int
        var pid: Int32
        var placement: MappingPlacement
    }

    let slots: [Slot]

    init(hosts: [MappingHost]) {
        var s: [Slot] = []
        for (i, h) in hosts.enumerated() {
            for p in h.placements { s.append(Slot(hostIndex: i, pid: h.pid, placement: p)) }
        }
        slots = s
    }

    var count: Int { slots.count }

    func record(_ phase: Phase, into phases: inout [[Phase: PhaseObservation]]) {
        var smapsByPid: [Int32: [SmapsEntry]] = [:]
        var scanners: [Int32: VmaScanner] = [:]
        for (i, slot) in slots.enumerated() {
            if smapsByPid[slot.pid] == nil {
                smapsByPid[slot.pid] = ProcFS.host.smaps(slot.pid)
                scanners[slot.pid] = try? VmaScanner(pid: slot.pid, withPages: false)
            }
            let vmas = smapsByPid[slot.pid]!.filter { $0.start < slot.placement.end && $0.end > slot.placement.start }
            let scanner = scanners[slot.pid]
            let classes = try? scanner?.scan(start: slot.placement.start, end: slot.placement.end).counts
            phases[i][phase] = PhaseObservation(
                rssKB: vmas.reduce(0) { $0 + $1.rssKB },
                anonKB: vmas.reduce(0) { $0 + $1.anonymousKB },
                pmdMappedKB: vmas.reduce(0) { $0 + $1.pmdMappedKB },
                classes: classes ?? nil, pfnsVisible: scanner.map { $0.sawPFN || !$0.sawPresent } ?? false)
        }
    }
}
