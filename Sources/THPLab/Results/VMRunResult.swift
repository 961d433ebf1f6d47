import Foundation

/// What `thplab vm` brings back from a guest.
public struct VMRunResult: Codable, Sendable {
    public var kernel: KernelImage
    /// `kvm` or `tcg` (software emulation), and why.
    public var acceleration: String
    public var accelerationNote: String
    public var memory: String
    public var cpus: Int
    public var numa: [String]
    public var arguments: [String]
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String
    /// The guest thplab's `--json` result.
    public var result: JSONValue?
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case kernel, acceleration, accelerationNote = "acceleration_note"
        case memory, cpus, numa, arguments, exitCode = "exit_code", stdout, stderr, result, seconds
    }
}
