/// `run benefit`: one working set in every mapping state the kernel allows
/// (small pages, huge folios mapped by PTEs, PMD-mapped), each timed with a
/// dependent random chase (the TLB's worst case) and a sequential stream
/// (its best). States are measured in turn, round after round, the
/// memory's classes read before every measurement so a figure is never
/// given to a state the memory was not in. It never prints.
public struct BenefitExperiment {
    public var options: BenefitOptions
    public var sysfs = THPSysfs()

    public init(options: BenefitOptions) { self.options = options }

    public func run(guardian: HostGuard, progress: @escaping (ExperimentProgress) -> Void) throws -> BenefitResult {
        let o = options
        let lab = Lab(guardian: guardian, sysfs: sysfs, progress: progress)
        let chain = AccessChain(pages: o.size / PageGeometry.pageSize)
        let mthpKB = try o.mthpSizes(MthpPolicies(knobs: lab.knobs()))
        let memories = try StateMemory.build(o, mthpKB: mthpKB, chain: chain, lab: lab)
        // Under software emulation a load's time is the emulator's: states
        // and their pages only.
        let hypervisor = Sys.hypervisorSignature()
        let emulated = Sys.isSoftwareEmulation(hypervisor)
        if emulated { lab.note(Self.emulationNote) } else { lab.step("calibrating: each measurement at least \(o.roundSeconds) s") }
        let plan = emulated ? MeasurementPlan(chaseSteps: 0, streamPasses: 0, length: 0)
            : MeasurementPlan.calibrate(memories, chain: chain, seconds: o.roundSeconds)
        // dTLB misses and walk cycles per load, where the CPU's counters are there.
        let cpu = HardwarePMU.CPU.read()
        let counters = HardwarePMU.present && !emulated ? PerfGroup(HardwarePMU.benefitEvents(cpu)) : nil
        var samples = [AccessState: AccessSamples]()
        var seen = [AccessState: ClassCounts]()
        var lost = Set<AccessState>()
        for round in 0..<o.rounds {
            lab.step("round \(round + 1) of \(o.rounds): \(memories.count) states, chase and stream")
            // Each round starts with another state, so that no state always follows the same one.
            for i in 0..<memories.count {
                let m = memories[(i + round) % memories.count]
                let pages = try m.classes()
                if seen[m.state] == nil || !m.state.holds(pages) { seen[m.state] = pages }
                if !m.state.holds(pages) { lost.insert(m.state) }
                guard !emulated else { continue }
                samples[m.state, default: AccessSamples()].add(plan.measure(m, chain: chain, counters: counters))
            }
            if emulated { break }
        }
        let pmu = HardwarePMU.benefitNote(counting: counters?.counting ?? [], refused: counters?.refused ?? [], cpu: cpu)
        return judge(memories, samples: samples, seen: seen, lost: lost, plan: plan, hypervisor: hypervisor, pmu: pmu, lab: lab)
    }

    static let emulationNote = "this CPU is emulated in software (QEMU TCG: CPUID signature TCGTCGTCGTCG): an access's time is the emulator's, not the hardware's, so no timing is taken; the states and their pages are shown. Run it on the host or in a KVM guest"

    private func judge(_ memories: [StateMemory], samples: [AccessState: AccessSamples], seen: [AccessState: ClassCounts],
                       lost: Set<AccessState>, plan: MeasurementPlan, hypervisor: String, pmu: String, lab: Lab) -> BenefitResult {
        var differences: [String] = []
        var states = memories.map { m in
            let kept = lost.contains(m.state) ? AccessSamples() : samples[m.state] ?? AccessSamples()
            var s = BenefitState(state: m.state, how: m.how, pages: seen[m.state] ?? ClassCounts(), held: !lost.contains(m.state),
                                 chase: AccessFigure.of(kept.chase), stream: AccessFigure.of(kept.stream))
            s.dtlbMissesPerLoad = AccessSamples.median(kept.dtlbMisses)
            s.walkCyclesPerLoad = AccessSamples.median(kept.walkCycles)
            return s
        }
        for s in states where !s.held {
            let c = s.pages
            differences.append("the \(s.state.rawValue) state did not hold (pmd \(c.pmd), pte-thp \(c.pteThp), mthp \(c.mthp), small \(c.small) pages): its figures are withheld; it was made so: \(s.how)")
        }
        if let small = states.first(where: { $0.state == .small }), let chase = small.chase, let stream = small.stream {
            for i in states.indices {
                if let c = states[i].chase {
                    states[i].chaseSpeedup = c.speedup(over: chase)
                    states[i].chaseMeasurable = states[i].state == .small || options.rounds < 2 ? nil : !c.overlaps(chase)
                }
                if let s = states[i].stream {
                    states[i].streamSpeedup = s.speedup(over: stream)
                    states[i].streamMeasurable = states[i].state == .small || options.rounds < 2 ? nil : !s.overlaps(stream)
                }
            }
        }
        let facts = lab.facts()
        var notes = facts.notes
        if let note = Self.slowerThanSmallNote(states, hypervisor: hypervisor) { notes.append(note) }
        if options.rounds < 2 && !Sys.isSoftwareEmulation(hypervisor) {
            notes.append("one round: the noise is unknown, so no difference is called measurable or not; give --rounds 3 or more")
        }
        return BenefitResult(kernelRelease: facts.kernelRelease, options: options, chaseSteps: Int(plan.chaseSteps),
                             streamPasses: plan.streamPasses, states: states, pmu: pmu, knobsBefore: facts.knobsBefore,
                             knobsAfter: [:], knobsChanged: facts.knobsChanged, ok: differences.isEmpty, differences: differences,
                             notes: notes, hypervisor: hypervisor.isEmpty ? nil : hypervisor)
    }

    /// Huge folios mapped by PTEs measurably slower than small pages in the
    /// chase and in the stream (which misses the TLB once per 64 lines):
    /// the guest's page tables are alike in both, so under a hypervisor the
    /// likely cause is the host's backing of that memory.
    static func slowerThanSmallNote(_ states: [BenefitState], hypervisor: String) -> String? {
        guard !hypervisor.isEmpty, let pte = states.first(where: { $0.state == .pteMapped }),
              pte.chaseMeasurable == true, (pte.chaseSpeedup ?? 1) < 1, pte.streamMeasurable == true, (pte.streamSpeedup ?? 1) < 1 else { return nil }
        return "huge folios mapped by PTEs were slower than small pages, in the stream too, though both walk the same kind of page table: under a hypervisor (CPUID \(hypervisor)) the host's backing of each state's memory counts too (host 4 kB pages behind freshly allocated guest memory cost a nested page walk per page), which no guest can see; compare pmd with small, and run on bare metal for the pte-mapped figure"
    }
}

/// How long each measurement runs: the chase's dependent loads and the
/// stream's passes, set so that the fastest state still takes `seconds`.
struct MeasurementPlan {
    let chaseSteps: UInt64
    let streamPasses: Int
    let length: Int

    static func calibrate(_ memories: [StateMemory], chain: AccessChain, seconds: Double) -> MeasurementPlan {
        var steps = UInt64(chain.pages), passes = 1
        for m in memories {
            steps = max(steps, chain.steps(for: seconds, in: m.region))
            let pass = Double(max(1, Sys.stream(base: m.region.start, length: m.region.length, passes: 1).nanoseconds))
            passes = max(passes, Int((seconds * 1e9 / pass).rounded(.up)))
        }
        return MeasurementPlan(chaseSteps: steps, streamPasses: passes, length: memories.first?.region.length ?? 0)
    }

    /// One measurement of each kernel: ns per dependent load, ns per 64-byte
    /// line; and the chase's counters per load, when there are counters.
    func measure(_ m: StateMemory, chain: AccessChain, counters: PerfGroup?) -> AccessSample {
        let (chase, counts) = counters?.count { chain.nanosecondsPerLoad(in: m.region, steps: chaseSteps) }
            ?? (chain.nanosecondsPerLoad(in: m.region, steps: chaseSteps), [:])
        let s = Sys.stream(base: m.region.start, length: length, passes: streamPasses)
        let lines = Double(length / 64) * Double(streamPasses)
        let steps = Double(chaseSteps)
        return AccessSample(chase: chase, stream: Double(s.nanoseconds) / lines,
                            dtlbMisses: counts[.dtlbLoadMisses].map { $0 / steps }, walkCycles: counts.first { $0.key.type == PerfEvent.typeRaw }.map { $0.value / steps })
    }
}

/// One measurement of a state.
struct AccessSample {
    var chase: Double
    var stream: Double
    var dtlbMisses: Double?
    var walkCycles: Double?
}

/// A state's measurements over the rounds.
struct AccessSamples {
    var chase: [Double] = []
    var stream: [Double] = []
    var dtlbMisses: [Double] = []
    var walkCycles: [Double] = []

    mutating func add(_ s: AccessSample) {
        chase.append(s.chase)
        stream.append(s.stream)
        if let d = s.dtlbMisses { dtlbMisses.append(d) }
        if let w = s.walkCycles { walkCycles.append(w) }
    }

    /// To two decimals; nil for none.
    static func median(_ values: [Double]) -> Double? { AccessFigure.of(values)?.medianNs }
}

extension BenefitResult: GuardedResult {}

/// `run benefit` from start to end.
public enum BenefitRunner {
    public static func run(options: BenefitOptions, log: @escaping (String) -> Void,
                           progress: @escaping (ExperimentProgress) -> Void) throws -> BenefitResult {
        try GuardedRun.experiment(command: "run benefit", trigger: .madvise,
                                  validate: {
                                      try options.validate(room: MemoryRoom.read(), policies: MthpPolicies(knobs: THPSysfs().readAll()))
                                      try BenefitChecks.memoryCanBeHuge(options.memory)
                                  },
                                  log: log) {
            try BenefitExperiment(options: options).run(guardian: $0, progress: progress)
        }
    }
}

/// What must hold before any memory is made.
enum BenefitChecks {
    /// shmem_enabled=deny makes no shmem huge page at all (MADV_COLLAPSE
    /// included): there would be no state to compare.
    static func memoryCanBeHuge(_ memory: MthpMemory, sysfs: THPSysfs = THPSysfs()) throws {
        guard memory != .anon, sysfs.readAll().value(.shmemEnabled) == ShmemHuge.deny.rawValue else { return }
        throw THPLabError.unsupported("shmem_enabled is deny: the kernel makes no \(memory.rawValue) huge page, so there is no state to compare with small pages. Allow it for the run: thplab knobs set shmem_enabled=advise -- thplab run benefit --memory \(memory.rawValue)")
    }
}
