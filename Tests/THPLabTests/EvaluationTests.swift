import Testing
@testable import THPLab

@Suite struct RetractEvaluationTests {
    let context = ExpectationContext(kernel: KernelVersion(6, 18), backing: .memfd, trigger: .madvise,
                                     readOnlyThpForFS: false, shmemHuge: .never)

    /// An observation whose classes say `thp` kB are on THPs (PMD-mapped
    /// first), the rest small.
    static func obs(_ rss: Int, _ anon: Int, _ pmd: Int, thp: Int) -> PhaseObservation {
        var c = ClassCounts()
        c.pmd = pmd / 4
        c.pteThp = (thp - pmd) / 4
        c.small = (rss - thp) / 4
        return PhaseObservation(rssKB: rss, anonKB: anon, pmdMappedKB: pmd, classes: c, pfnsVisible: true)
    }

    func phases(_ populated: PhaseObservation, _ refaulted: PhaseObservation) -> [Phase: PhaseObservation] {
        [.populated: populated, .collapsed: Self.obs(0, 0, 0, thp: 0), .refaulted: refaulted]
    }

    let small = Self.obs(4096, 0, 0, thp: 0)
    let pmd = Self.obs(4096, 0, 4096, thp: 4096)
    let pteThp = Self.obs(4096, 4, 0, thp: 4092)

    func observed(_ role: MappingRole, pid: Int32, trigger: Bool, refaulted: PhaseObservation) -> ObservedMapping {
        ObservedMapping(role: role, pid: pid, start: 0x200000, end: 0x600000, inTriggerProcess: trigger,
                        phases: phases(small, refaulted))
    }

    @Test func allAsExpectedGivesNoDifference() {
        let all = [observed(.shared, pid: 1, trigger: true, refaulted: pmd),
                   observed(.privateClean, pid: 2, trigger: false, refaulted: pmd),
                   observed(.privateWritten, pid: 2, trigger: false, refaulted: pteThp),
                   observed(.misaligned, pid: 2, trigger: false, refaulted: small)]
        let (mappings, differences) = RetractEvaluation.judge(all, context: context)
        #expect(differences.isEmpty)
        #expect(mappings.allSatisfy { $0.met })
        #expect(mappings.map(\.triggerMapping) == [true, false, false, false])
        #expect(mappings.allSatisfy { !$0.reason.isEmpty })
    }

    @Test func aMappingLeftOnPTEsIsADifference() {
        let all = [observed(.privateClean, pid: 7, trigger: false, refaulted: small)]
        let (mappings, differences) = RetractEvaluation.judge(all, context: context)
        #expect(mappings.first?.met == false)
        #expect(mappings.first?.expectedState == .pmdMapped)
        #expect(differences == ["pid 7 private-clean: expected pmd-mapped after refault, saw pte-mapped"])
    }

    @Test func triggerCallsAndAnUnfinishedWaitAreDifferences() {
        let ok = AdviceOutcome(advice: "MADV_COLLAPSE", role: .shared, pid: 1, start: 0, length: 4 << 20, errno: 0, errnoName: nil)
        let refused = AdviceOutcome(advice: "MADV_COLLAPSE", role: .shared, pid: 1, start: 0, length: 4 << 20, errno: 22, errnoName: "EINVAL")
        #expect(RetractEvaluation.triggerDifferences(calls: [TriggerCall(outcome: ok, expectedSuccess: true, met: true, rule: "")],
                                                     wait: nil, context: context).isEmpty)
        let d = RetractEvaluation.triggerDifferences(calls: [TriggerCall(outcome: refused, expectedSuccess: true, met: false, rule: "")],
                                                     wait: nil, context: context)
        #expect(d == ["MADV_COLLAPSE on shared (pid 1): expected success, got EINVAL"])

        var k = context
        k.trigger = .khugepaged
        k.shmemHuge = .advise
        var wait = KhugepagedWait(boundSeconds: 60, waitedSeconds: 60, extentsTotal: 2, extentsCollapsed: 1,
                                  firstCollapseSeconds: 1, lastCollapseSeconds: nil, fullScans: 9, scanEvents: 4,
                                  collapseEvents: 1, lastScanResult: "exceed_none_pte", visited: true, verdict: "")
        wait.verdict = KhugepagedWait.verdict(wait)
        let w = RetractEvaluation.triggerDifferences(calls: [], wait: wait, context: k)
        #expect(w.count == 1)
        #expect(w.first?.contains("collapsed 1 of 2") == true)
        #expect(w.first?.contains("exceed_none_pte") == true)
        // Where nothing can collapse, an empty wait is what was expected.
        k.shmemHuge = .never
        #expect(RetractEvaluation.triggerDifferences(calls: [], wait: wait, context: k).isEmpty)
    }

    @Test func populatedHugeIsDetected() {
        #expect(!RetractEvaluation.populatedHuge(phases(small, small)))
        #expect(RetractEvaluation.populatedHuge(phases(pmd, pmd)))
        #expect(RetractEvaluation.populatedHuge(phases(Self.obs(4096, 0, 0, thp: 4096), small)))
    }

    @Test func verdictTellsNeverLookedFromLookedAndRefused() {
        var w = KhugepagedWait(boundSeconds: 10, waitedSeconds: 10, extentsTotal: 2, extentsCollapsed: 0,
                               firstCollapseSeconds: nil, lastCollapseSeconds: nil, fullScans: 0, scanEvents: 0,
                               collapseEvents: 0, lastScanResult: nil, visited: false, verdict: "")
        #expect(KhugepagedWait.verdict(w).contains("never looked"))
        w.visited = true
        w.scanEvents = 3
        w.lastScanResult = "exceed_none_pte"
        #expect(KhugepagedWait.verdict(w).contains("looked at the object"))
        w.visited = nil
        #expect(KhugepagedWait.verdict(w).contains("cannot be told"))
    }
}
