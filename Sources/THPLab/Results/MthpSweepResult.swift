/// One point of `sweep mthp`: the per-size policies of the point and the
/// folio sizes each fault step saw there.
public struct MthpSweepPoint: Codable, Sendable {
    public var knobs: [String: String]
    /// Per memory, the sizes not `never` with `inherit` resolved, in words.
    public var policies: [String: String]
    public var steps: [MthpStep]
    public var ok: Bool
    public var differences: [String]
}

public struct MthpSweepResult: Codable, Sendable {
    public var kernelRelease: String
    public var options: MthpOptions
    public var axes: [SweepAxis]
    public var points: [MthpSweepPoint]
    /// Over every fault step of every point: the sizes seen are a subset of
    /// those allowed, and the largest allowed size that fits is what faults
    /// took (on an unfragmented host).
    public var checks: [SweepCheck]
    public var knobsBefore: [String: String]
    public var knobsAfter: [String: String]
    public var ok: Bool
    public var differences: [String]

    enum CodingKeys: String, CodingKey {
        case kernelRelease = "kernel_release", options, axes, points, checks, knobsBefore = "knobs_before", knobsAfter = "knobs_after"
        case ok, differences
    }
}
