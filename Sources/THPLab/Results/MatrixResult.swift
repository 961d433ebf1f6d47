
/// `thplab matrix`: one thplab command on several kernels (and the host),
/// side by side, behaviour row by behaviour row.
public struct MatrixColumn: Codable, Sendable {
    public var label: String
    public var kernelRelease: String
    /// `host`, `kvm` or `tcg`.
    public var how: String
    public var exitCode: Int32
    public var ok: Bool
    /// Why the column has no result: the guest did not boot, or hung.
    public var note: String?
    /// A guest's boots: one, or two when the first died before thplab ran.
    public var boots: [GuestBoot]?
    /// The command's own result in this column, whole (a battery's holds
    /// every entry's), so that nothing the kernel did is lost.
    public var result: JSONValue?

    enum CodingKeys: String, CodingKey {
        case label, kernelRelease = "kernel_release", how, exitCode = "exit_code", ok, note, boots, result
    }

    public init(label: String, kernelRelease: String, how: String, exitCode: Int32, ok: Bool, note: String? = nil) {
        self.label = label
        self.kernelRelease = kernelRelease
        self.how = how
        self.exitCode = exitCode
        self.ok = ok
        self.note = note
    }
}

public struct MatrixCell: Codable, Sendable {
    public var observed: String?
    public var expected: String?
    public var met: Bool
    public var reason: String?
}

public struct MatrixRow: Codable, Sendable {
    /// The behaviour row's group: `thplab` (the process that triggers the
    /// collapse) or `worker N` in `run retract`; `run SCENARIO`, `sweep
    /// SCENARIO` or `doctor`; in a battery, the entry.
    public var process: String
    public var role: String
    public var cells: [MatrixCell]
    /// Whether the kernels did different things for this mapping.
    public var disagree: Bool
}

public struct MatrixResult: Codable, Sendable {
    public var arguments: [String]
    public var columns: [MatrixColumn]
    public var rows: [MatrixRow]
    /// One line per row where the kernels disagree, with each kernel's rule.
    public var disagreements: [String]
    /// One line per row where a kernel did something its model did not
    /// expect: a rule the model lacks, reported rather than hidden.
    public var findings: [String]
    public var ok: Bool

    enum CodingKeys: String, CodingKey {
        case arguments, columns, rows, disagreements, findings, ok
    }

    public init(arguments: [String], columns: [MatrixColumn], rows: [MatrixRow], disagreements: [String], findings: [String], ok: Bool) {
        self.arguments = arguments
        self.columns = columns
        self.rows = rows
        self.disagreements = disagreements
        self.findings = findings
        self.ok = ok
    }

    /// Results written before `findings` existed read with none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        arguments = try c.decode([String].self, forKey: .arguments)
        columns = try c.decode([MatrixColumn].self, forKey: .columns)
        rows = try c.decode([MatrixRow].self, forKey: .rows)
        disagreements = try c.decode([String].self, forKey: .disagreements)
        findings = try c.decodeIfPresent([String].self, forKey: .findings) ?? []
        ok = try c.decode(Bool.self, forKey: .ok)
    }
}
