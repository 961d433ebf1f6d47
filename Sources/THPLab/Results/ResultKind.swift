
/// What a result is. Every result's JSON says it in `kind`, beside
/// `schema_version`: the envelope, written once, around each typed body.
public enum ResultKind: String, Codable, CaseIterable, Sendable {
    case retract, run, sweep, watch, snapshot, diff, matrix, explain, collapse, vm, doctor, knobs, battery, mthp, benefit
    case mthpSweep = "mthp_sweep"
    case behaviourDiff = "behaviour_diff"
}

/// Every result thplab writes: a typed body with a kind, and the typed
/// view renderers take (no JSON round trip).
public protocol ThplabResult: Encodable, Sendable {
    static var kind: ResultKind { get }
    var view: AnyResult { get }
    /// Whether the JSON carries the envelope; `knobs show --json` is the
    /// knob table itself, as docs/json-schema.md says.
    static var enveloped: Bool { get }
}

extension ThplabResult {
    public static var enveloped: Bool { true }
}

/// The envelope: `schema_version` and `kind` in the same JSON object as the
/// body's own fields.
public enum ResultEnvelope {
    public static let schemaVersion = 1

    struct Wrapped<R: ThplabResult>: Encodable {
        var body: R
        enum CodingKeys: String, CodingKey { case schemaVersion = "schema_version", kind }
        func encode(to encoder: Encoder) throws {
            if R.enveloped {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(ResultEnvelope.schemaVersion, forKey: .schemaVersion)
                try c.encode(R.kind, forKey: .kind)
            }
            try body.encode(to: encoder)
        }
    }

    /// The result as pretty JSON, envelope included.
    public static func encode<R: ThplabResult>(_ result: R) throws -> [UInt8] {
        try JSONOutput.encode(Wrapped(body: result))
    }

    /// The pretty JSON as text: the view of a kind without one of its own.
    public static func prettyJSON<R: ThplabResult>(_ result: R) -> String {
        (try? encode(result)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension RetractResult: ThplabResult {
    public static let kind = ResultKind.retract
    public var view: AnyResult { .retract(self) }
}

extension BenefitResult: ThplabResult {
    public static let kind = ResultKind.benefit
    public var view: AnyResult { .benefit(self) }
}

extension RegionResult: ThplabResult {
    public static let kind = ResultKind.run
    public var view: AnyResult { .run(self) }
}

extension SweepResult: ThplabResult {
    public static let kind = ResultKind.sweep
    public var view: AnyResult { .sweep(self) }
}

extension WatchResult: ThplabResult {
    public static let kind = ResultKind.watch
    public var view: AnyResult { .watch(self) }
}

extension SnapshotResult: ThplabResult {
    public static let kind = ResultKind.snapshot
    public var view: AnyResult { .snapshot(self) }
}

extension DiffResult: ThplabResult {
    public static let kind = ResultKind.diff
    public var view: AnyResult { .diff(self) }
}

extension MatrixResult: ThplabResult {
    public static let kind = ResultKind.matrix
    public var view: AnyResult { .matrix(self) }
}

extension ExplainResult: ThplabResult {
    public static let kind = ResultKind.explain
    public var view: AnyResult { .explain(self) }
}

extension CollapseResult: ThplabResult {
    public static let kind = ResultKind.collapse
    public var view: AnyResult { .other(kind: .collapse, json: ResultEnvelope.prettyJSON(self)) }
}

extension VMRunResult: ThplabResult {
    public static let kind = ResultKind.vm
    public var view: AnyResult { .other(kind: .vm, json: ResultEnvelope.prettyJSON(self)) }
}

extension DoctorReport: ThplabResult {
    public static let kind = ResultKind.doctor
    public var view: AnyResult { .other(kind: .doctor, json: ResultEnvelope.prettyJSON(self)) }
}

extension BatteryResult: ThplabResult {
    public static let kind = ResultKind.battery
    public var view: AnyResult { .battery(self) }
}

extension MthpResult: ThplabResult {
    public static let kind = ResultKind.mthp
    public var view: AnyResult { .mthp(self) }
}

extension MthpSweepResult: ThplabResult {
    public static let kind = ResultKind.mthpSweep
    public var view: AnyResult { .mthpSweep(self) }
}

extension BehaviourDiffResult: ThplabResult {
    public static let kind = ResultKind.behaviourDiff
    public var view: AnyResult { .behaviourDiff(self) }
}
