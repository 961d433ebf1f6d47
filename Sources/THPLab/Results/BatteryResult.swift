/// One experiment of `thplab battery`: the command, how it ended, and its
/// behaviour rows.
public struct BatteryEntry: Codable, Sendable {
    /// The thplab arguments, as one string: the entry's name.
    public var label: String
    public var arguments: [String]
    public var exitCode: Int32
    public var seconds: Double
    public var rows: [BehaviourRow]
    /// Why it has no rows: its last line on stderr (exit 2 or 3), or how it died.
    public var note: String?
    /// The run's own result, whole, so that a changed row can be looked
    /// into (and re-judged) without running it again.
    public var result: JSONValue?

    enum CodingKeys: String, CodingKey {
        case label, arguments, exitCode = "exit_code", seconds, rows, note, result
    }

    public init(arguments: [String], exitCode: Int32, seconds: Double, rows: [BehaviourRow], note: String?, result: JSONValue? = nil) {
        self.label = arguments.joined(separator: " ")
        self.arguments = arguments
        self.exitCode = exitCode
        self.seconds = seconds
        self.rows = rows
        self.note = note
        self.result = result
    }

    /// Exit 3 (this kernel or host cannot run it) is a fact about the
    /// kernel, not a failure; 1 (the kernel did something else) and 2 are.
    public var ok: Bool { exitCode == 0 || exitCode == 3 }
}

/// `thplab battery`: every scenario with its defaults and the retract
/// variants, run once each on this kernel. Its rows are the behaviour
/// fingerprint that `thplab diff` compares between two kernels.
public struct BatteryResult: Codable, Sendable {
    public var kernelRelease: String
    public var entries: [BatteryEntry]
    public var seconds: Double
    public var ok: Bool

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", entries, seconds, ok
    }

    public init(kernelRelease: String, entries: [BatteryEntry], seconds: Double) {
        self.kernelRelease = kernelRelease
        self.entries = entries
        self.seconds = seconds
        self.ok = entries.allSatisfy(\.ok)
    }

    /// The fingerprint: every entry's rows under its label, after a row
    /// with its exit code (so that a kernel that cannot run it differs there).
    public var rows: [BehaviourRow] {
        entries.flatMap { e -> [BehaviourRow] in
            [BehaviourRow(group: e.label, subject: "exit code", observed: "\(e.exitCode)", expected: nil, met: e.ok, rule: e.note)]
            + e.rows.map { r in
                var r = r
                r.subject = e.label.hasPrefix(r.group) ? r.subject : r.group + " " + r.subject
                r.group = e.label
                return r
            }
        }
    }
}

/// `thplab diff` of two fingerprints: the rows whose outcome changed, each
/// with the rule on both sides, and the rows only one side has.
public struct BehaviourDiffResult: Codable, Sendable {
    public struct Change: Codable, Sendable {
        public var group: String
        public var subject: String
        public var before: String?
        public var after: String?
        public var ruleBefore: String?
        public var ruleAfter: String?
        /// Whether the model expected the change (each side met its kernel's expectation).
        public var explained: Bool
        /// The version rule whose evidence is this row, with its first release.
        public var versionRule: String?

        enum CodingKeys: String, CodingKey {
            case group, subject, before, after, ruleBefore = "rule_before", ruleAfter = "rule_after", explained
            case versionRule = "version_rule"
        }
    }

    public var kernelBefore: String
    public var kernelAfter: String
    public var changes: [Change]
    public var unchanged: Int
    /// Rows one side could not tell (observed `?`), with why.
    public var unknown: [String]

    enum CodingKeys: String, CodingKey {
        case kernelBefore = "kernel_before", kernelAfter = "kernel_after", changes, unchanged, unknown
    }
}
