import FoundationEssentials

/// One thing a kernel did that thplab can compare across kernels: for one
/// subject (a mapping, a scenario's extents, a sweep point, a capability),
/// what was seen, what the model expected, and the rule behind it.
public struct BehaviourRow: Codable, Equatable, Sendable {
    /// `thplab` or `worker N` (retract), `run SCENARIO`, `sweep SCENARIO`,
    /// `doctor`; in a battery, the entry's label first.
    public var group: String
    public var subject: String
    public var observed: String
    /// nil where the model makes no prediction (a capability, a scan result).
    public var expected: String?
    public var met: Bool
    public var rule: String?

    public init(group: String, subject: String, observed: String, expected: String? = nil, met: Bool = true, rule: String? = nil) {
        self.group = group
        self.subject = subject
        self.observed = observed
        self.expected = expected
        self.met = met
        self.rule = rule
    }

    /// The row's identity across kernels and fingerprints.
    public var key: String { group + " | " + subject }

    /// What a row observes when this host could not tell (its rule says
    /// why): never a difference between kernels.
    public static let unknown = "?"
    public var isUnknown: Bool { observed == Self.unknown }
}

/// The behaviour rows of any result that has them: the common form the
/// matrix, the battery's fingerprint and its diff compare.
public enum Behaviour {
    public static func rows(_ result: AnyResult) -> [BehaviourRow]? {
        switch result {
        case .retract(let r): return rows(r)
        case .run(let r): return rows(r)
        case .sweep(let s): return rows(s)
        case .battery(let b): return b.rows
        case .mthp(let r): return rows(r)
        case .benefit(let r):
            return r.states.map { s in
                BehaviourRow(group: "run benefit", subject: s.state.rawValue, observed: s.held ? s.state.rawValue : "not " + s.state.rawValue,
                             expected: s.state.rawValue, met: s.held, rule: s.how)
            }
        case .other(.doctor, let json):
            guard let d = try? JSONDecoder().decode(DoctorReport.self, from: Data(json.utf8)) else { return nil }
            return rows(d)
        default: return nil
        }
    }

    /// One row per step of `run mthp`: the folio sizes seen against those
    /// the model expected.
    public static func rows(_ r: MthpResult) -> [BehaviourRow] {
        r.steps.map { s in
            BehaviourRow(group: "run mthp", subject: (s.phase == .fault ? "fault \(s.label)" : s.label) + " " + s.memory.rawValue,
                         observed: FolioSizes.describe(MthpSteps.unkeyed(s.seen)), expected: FolioSizes.describe(MthpSteps.unkeyed(s.expected)),
                         met: s.ok, rule: s.rule)
        }
    }

    /// One row per mapping: its state after every mapping touched every
    /// page again (`*` marks the MADV_COLLAPSE target).
    public static func rows(_ r: RetractResult) -> [BehaviourRow] {
        let workers = Array(Set(r.mappings.filter { !$0.inTriggerProcess }.map(\.pid))).sorted()
        return r.mappings.map { m in
            let process = m.inTriggerProcess ? "thplab" : "worker \((workers.firstIndex(of: m.pid) ?? 0) + 1)"
            return BehaviourRow(group: process, subject: m.role.rawValue + (m.triggerMapping ? "*" : ""),
                                observed: m.phase(.refaulted)?.state.rawValue ?? "-", expected: m.expectedState.rawValue,
                                met: m.met, rule: m.reason)
        }
    }

    /// The extents collapsed against the model's count, and the scan
    /// results the tracepoints gave for the others.
    public static func rows(_ r: RegionResult) -> [BehaviourRow] {
        let group = "run " + r.scenario.rawValue
        var out = [BehaviourRow(group: group, subject: "extents collapsed", observed: "\(r.collapsed)/\(r.total)",
                                expected: "\(r.expectedCollapsed)/\(r.total)", met: r.collapsed == r.expectedCollapsed, rule: r.rule)]
        let results = Set(r.extents.filter { !$0.collapsed }.compactMap { $0.diagnosis?.lastScanResult }).sorted()
        if !results.isEmpty {
            out.append(BehaviourRow(group: group, subject: "last scan result (not collapsed)", observed: results.joined(separator: ",")))
        }
        if let held = r.numa?.placementHeld {
            out.append(BehaviourRow(group: group, subject: "placement \(r.numa?.placement ?? "")", observed: held ? "held" : "not held"))
        }
        if let b = r.bloat {
            out.append(BehaviourRow(group: group, subject: "zeros the collapse made resident", observed: FolioSizes.kB(b.addedKB)))
            if let s = b.shrinker {
                out.append(BehaviourRow(group: group, subject: "THPs split under the cgroup's pressure", observed: "\(s.split)/\(r.collapsed)",
                                        expected: "\(s.expectedSplit)/\(r.collapsed)", met: s.split == s.expectedSplit,
                                        rule: r.extents.first(where: \.collapsed)?.bloat?.rule))
            }
        }
        return out
    }

    /// One row per point (collapsed against expected) and per check.
    public static func rows(_ s: SweepResult) -> [BehaviourRow] {
        let group = "sweep " + s.scenario.rawValue
        let points = s.points.map { p in
            BehaviourRow(group: group, subject: s.axes.map { "\($0.name)=\(p.knobs[$0.name] ?? "?")" }.joined(separator: " "),
                         observed: "\(p.collapsed)/\(p.total)", expected: "\(p.expectedCollapsed)/\(p.total)",
                         met: p.collapsed == p.expectedCollapsed, rule: p.differences.first)
        }
        return points + s.checks.map {
            BehaviourRow(group: group, subject: $0.name, observed: $0.held ? "holds" : "broken", expected: "holds", met: $0.held, rule: $0.detail)
        }
    }

    /// The capability table, each capability in a few words.
    public static func rows(_ d: DoctorReport) -> [BehaviourRow] {
        guard let c = d.capabilities else { return [] }
        func yes(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? "?" }
        let sizes = c.sizeDirectories.map { String($0.dropFirst(10)) }
        let table: [(String, String)] = [
            ("THP sizes", sizes.isEmpty ? "PMD only" : "\(sizes.count): \(sizes.first!)-\(sizes.last!)"),
            ("per-size stats files", c.statsFiles.isEmpty ? "none" : "\(c.statsFiles.count)"),
            ("huge_memory tracepoints", c.tracepoints.map { "\($0.count)" } ?? BehaviourRow.unknown),
            ("smaps THP fields", c.thpSmapsFields.joined(separator: " ")),
            ("THP_enabled in status", yes(c.statusTHPEnabled)),
            ("PAGEMAP_SCAN", yes(c.pagemapScan)),
            ("MADV_COLLAPSE", yes(c.madviseCollapse)),
            ("process_madvise(MADV_COLLAPSE)", yes(c.processMadviseCollapse)),
        ]
        return (table + knobRows(d.knobs)).map { name, value in
            BehaviourRow(group: "doctor", subject: name, observed: value,
                         rule: value == BehaviourRow.unknown ? "tracefs is not mounted here (doctor does not mount it; a run does)" : nil)
        }
    }

    /// Which global and khugepaged knobs this kernel has, each with its
    /// choices ("number" for a numeric one), and for how many folio sizes
    /// shmem has its own policy: a knob a kernel lacks is a row it lacks.
    static func knobRows(_ knobs: [String: SysfsValue]) -> [(String, String)] {
        let shmemSizes = MthpPolicies(knobs: knobs).offered(.shmem)
        let shmem = shmemSizes.isEmpty ? "none" : "\(shmemSizes.count): \(shmemSizes.first!)kB-\(shmemSizes.last!)kB"
        let global = knobs.filter { !$0.key.hasPrefix("hugepages-") }.sorted { $0.key < $1.key }
        return [("shmem per-size policies", shmem)]
            + global.map { ("knob \($0.key)", $0.value.options.isEmpty ? "number" : $0.value.options.joined(separator: " ")) }
    }
}
