import Foundation

/// `thplab matrix`: one `run retract` on several kernels (and the host),
/// side by side, mapping role by mapping role.
public struct MatrixColumn: Codable, Sendable {
    public var label: String
    public var kernelRelease: String
    /// `host`, `kvm` or `tcg`.
    public var how: String
    public var exitCode: Int32
    public var ok: Bool
    /// Why the column has no result: the guest did not boot, or hung.
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case label, kernelRelease = "kernel_release", how, exitCode = "exit_code", ok, note
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
    /// `thplab` (the process that triggers the collapse) or `worker N`.
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
    /// One line per mapping where the kernels disagree, with each kernel's rule.
    public var disagreements: [String]
    public var ok: Bool

    enum CodingKeys: String, CodingKey {
        case arguments, columns, rows, disagreements, ok
    }
}
