
/// One boot of a guest: how long it took, and how it died if it did not
/// bring back thplab's exit code.
public struct GuestBoot: Codable, Sendable {
    /// 1 for the first boot, 2 for the one after a guest died before thplab ran.
    public var number: Int
    public var seconds: Double
    /// vng's exit status (255 when qemu died under it).
    public var vngExit: Int32
    public var death: GuestDeath?
    /// The whole console, where it was kept (`--console-dir`).
    public var console: String?

    enum CodingKeys: String, CodingKey {
        case number, seconds, vngExit = "vng_exit", death, console
    }
}

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
    /// Every boot it took: one, or two when the first died before thplab ran.
    public var boots: [GuestBoot]

    enum CodingKeys: String, CodingKey {
        case kernel, acceleration, accelerationNote = "acceleration_note"
        case memory, cpus, numa, arguments, exitCode = "exit_code", stdout, stderr, result, seconds, boots
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kernel = try c.decode(KernelImage.self, forKey: .kernel)
        acceleration = try c.decode(String.self, forKey: .acceleration)
        accelerationNote = try c.decode(String.self, forKey: .accelerationNote)
        memory = try c.decode(String.self, forKey: .memory)
        cpus = try c.decode(Int.self, forKey: .cpus)
        numa = try c.decode([String].self, forKey: .numa)
        arguments = try c.decode([String].self, forKey: .arguments)
        exitCode = try c.decode(Int32.self, forKey: .exitCode)
        stdout = try c.decode(String.self, forKey: .stdout)
        stderr = try c.decode(String.self, forKey: .stderr)
        result = try c.decodeIfPresent(JSONValue.self, forKey: .result)
        seconds = try c.decode(Double.self, forKey: .seconds)
        // Results saved before boots were recorded had one.
        boots = try c.decodeIfPresent([GuestBoot].self, forKey: .boots) ?? []
    }

    public init(kernel: KernelImage, acceleration: String, accelerationNote: String, memory: String, cpus: Int, numa: [String],
                arguments: [String], exitCode: Int32, stdout: String, stderr: String, result: JSONValue?, seconds: Double,
                boots: [GuestBoot]) {
        self.kernel = kernel
        self.acceleration = acceleration
        self.accelerationNote = accelerationNote
        self.memory = memory
        self.cpus = cpus
        self.numa = numa
        self.arguments = arguments
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.result = result
        self.seconds = seconds
        self.boots = boots
    }
}
