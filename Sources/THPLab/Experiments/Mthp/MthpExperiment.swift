
/// `run mthp`: multi-size THP for anonymous memory and shmem under the
/// per-size policies asked for (or thplab's defaults), set for the run and
/// put back. For each memory: the fault step on five VMA shapes, partial
/// unmapping, MADV_COLLAPSE of an mTHP-backed range and swap-out (see
/// `MthpSteps`). Each step compares the folio sizes pagemap/kpageflags saw
/// with `MthpLayout`'s, and the per-size counters with what the kernel
/// should have counted. It never prints.
public struct MthpExperiment {
    public var options: MthpOptions
    public var sysfs = THPSysfs()
    /// thplab's own binary, for the fallback step's worker; nil: no
    /// fallback step.
    public var executable: String?

    public init(options: MthpOptions, executable: String?) {
        self.options = options
        self.executable = executable
    }

    /// The memories this kernel can run, or exit 3 naming the release that
    /// brought the missing one; a memory left out on a kernel that has the
    /// other is a note.
    public static func supported(_ wanted: [MthpMemory], policies: MthpPolicies, kernel: String) throws -> (run: [MthpMemory], notes: [String]) {
        var run: [MthpMemory] = [], notes: [String] = []
        for m in wanted {
            if m != .tmpfs && policies.offered(m).isEmpty {
                let since = m.versionRule.since
                notes.append("\(m == .anon ? "anonymous" : "shmem") per-size policies (hugepages-<N>kB/\(m.knobFile)) came with \(since.major).\(since.minor)")
            } else {
                run.append(m)
            }
        }
        guard !run.isEmpty else {
            throw THPLabError.unsupported("run mthp needs multi-size THP, which this kernel (\(kernel)) lacks: " + notes.joined(separator: "; "))
        }
        return (run, notes.map { "this kernel (\(kernel)) has no " + $0.replacing(" came with", with: ", which came with") + ": skipped" })
    }

    public func run(guardian: HostGuard, progress: @escaping (ExperimentProgress) -> Void) throws -> MthpResult {
        let lab = Lab(guardian: guardian, sysfs: sysfs, progress: progress)
        let (memories, skipped) = try Self.supported(options.memory, policies: MthpPolicies(knobs: lab.knobsBefore), kernel: lab.release)
        skipped.forEach(lab.note)
        let pairs = options.knobs.isEmpty ? MthpOptions.defaults(offered: MthpPolicies(knobs: lab.knobsBefore), memory: memories) : options.knobs
        let requests = try KnobRequest.parse(pairs, sysfs: sysfs)
        let why = options.knobs.isEmpty ? "run mthp's default policy (give --knob to choose)" : "asked for (--knob)"
        try lab.apply(requests.map { KnobPlan.Change(name: $0.name, value: $0.value, why: why) })
        let inForce = lab.knobs()
        var policies = MthpPolicies(knobs: inForce)
        if memories.contains(.tmpfs) { policies.tmpfsHuge = options.tmpfsHuge.rawValue }
        var steps: [MthpStep] = []
        var swap: SwapArea?
        defer { swap?.remove() }
        let cgroups = MemoryCgroup.locateOnHost()
        if executable != nil && cgroups == nil { lab.note("no memory cgroup controller is mounted: the fallback step was skipped") }
        for m in memories {
            let s = MthpSteps(memory: m, policies: policies, lab: lab, kernel: lab.kernel, asked: Set(requests.map(\.name)),
                              tmpfsHuge: options.tmpfsHuge)
            for shape in MthpSteps.shapes { steps.append(try s.fault(shape)) }
            if m == .tmpfs {
                // A tmpfs mount shows what huge= gives faults and writes; its
                // other steps would repeat shmem's.
                for kb in MthpSteps.writeSizesKB { steps.append(try s.write(sizeKB: kb)) }
                continue
            }
            if let executable, cgroups != nil { steps.append(try s.fallback(executable: executable)) }
            steps.append(try s.partial())
            steps.append(try s.collapse(trigger: options.trigger, timeoutSeconds: options.timeoutSeconds))
            if options.swap != .none {
                if swap == nil {
                    swap = try SwapArea(guardian: guardian, directory: options.swapDirectory, zram: options.swap == .zram)
                    if swap!.ownedByThplab { lab.note("no swap on this host: thplab made \(swap!.what) for the run and removed it afterwards") }
                }
                steps.append(try s.swap(swap!))
            }
        }
        lab.note("the per-size counters are system-wide: other processes' faults add to them, so checks ask for at least what this run caused")
        let facts = lab.facts()
        let differences = steps.filter { !$0.ok }.map(Self.difference)
        return MthpResult(kernelRelease: facts.kernelRelease, options: options, knobsBefore: facts.knobsBefore, knobsAfter: [:],
                          knobsChanged: facts.knobsChanged, knobsInForce: inForce.mapValues(\.current),
                          policies: Dictionary(uniqueKeysWithValues: memories.map { ($0.rawValue, policies.summary($0)) }),
                          steps: steps, swap: swap?.what, swapRotational: swap?.rotational, deltas: facts.deltas,
                          ok: differences.isEmpty, differences: differences, notes: facts.notes)
    }

    static func difference(_ s: MthpStep) -> String {
        var parts: [String] = []
        if let e = s.expectedBefore, s.before != e {
            parts.append("before the action saw \(FolioSizes.describe(MthpSteps.unkeyed(s.before ?? [:]))), expected \(FolioSizes.describe(MthpSteps.unkeyed(e)))")
        }
        if s.seen != s.expected {
            parts.append("saw \(FolioSizes.describe(MthpSteps.unkeyed(s.seen))), expected \(FolioSizes.describe(MthpSteps.unkeyed(s.expected)))")
        }
        for c in s.checks where c.holds == false {
            parts.append("\(FolioSizes.kB(c.sizeKB)) \(c.counter) moved \(c.seen ?? 0), expected at least \(c.atLeast)")
        }
        if s.errnoName != s.expectedErrno {
            parts.append(s.errnoName.map { "the call failed with \($0)" } ?? "the call succeeded")
            if let e = s.expectedErrno { parts[parts.count - 1] += ", expected \(e)" }
        }
        if s.phase == .swap && s.swappedPages * PageGeometry.pageKB != s.lengthKB {
            parts.append("\(s.swappedPages * PageGeometry.pageKB) of \(s.lengthKB) kB went to swap")
        }
        return "\(s.memory.rawValue) \(s.label): " + parts.joined(separator: "; ") + " (\(s.rule))"
    }
}

extension MthpMemory {
    /// The version rule that brought per-size THP for this memory.
    var versionRule: VersionRule { self == .anon ? VersionRules.anonMultiSize : VersionRules.shmemMultiSize }
}

/// `run mthp` from start to end.
public enum MthpRunner {
    public static func run(options: MthpOptions, executable: String, log: @escaping (String) -> Void,
                           progress: @escaping (ExperimentProgress) -> Void) throws -> MthpResult {
        try GuardedRun.experiment(command: "run mthp", trigger: .madvise, validate: { try options.validate() }, log: log) {
            try MthpExperiment(options: options, executable: executable).run(guardian: $0, progress: progress)
        }
    }
}
