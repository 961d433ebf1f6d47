import FoundationEssentials

/// Any result thplab writes, read back from its JSON.
public enum AnyResult {
    case retract(RetractResult)
    case run(RegionResult)
    case sweep(SweepResult)
    case watch(WatchResult)
    case snapshot(SnapshotResult)
    case diff(DiffResult)
    case matrix(MatrixResult)
    case explain(ExplainResult)
    case battery(BatteryResult)
    case behaviourDiff(BehaviourDiffResult)
    case mthp(MthpResult)
    case mthpSweep(MthpSweepResult)
    case benefit(BenefitResult)
    /// A kind without a view of its own (doctor, collapse, vm, knobs):
    /// shown as its pretty JSON.
    case other(kind: ResultKind, json: String)

    public var kind: ResultKind {
        switch self {
        case .retract: return .retract
        case .run: return .run
        case .sweep: return .sweep
        case .watch: return .watch
        case .snapshot: return .snapshot
        case .diff: return .diff
        case .matrix: return .matrix
        case .explain: return .explain
        case .battery: return .battery
        case .behaviourDiff: return .behaviourDiff
        case .mthp: return .mthp
        case .mthpSweep: return .mthpSweep
        case .benefit: return .benefit
        case .other(let k, _): return k
        }
    }
}

/// Reads result files, refusing with a message that says what is wrong
/// (exit code 2): a missing, empty, corrupt or foreign file, or a schema
/// version this thplab does not read.
public enum ResultFile {
    public static let schemaVersion = ResultEnvelope.schemaVersion

    public static func read(_ path: String) throws -> AnyResult {
        guard Sys.exists(path) else { throw THPLabError.usage("\(path) does not exist") }
        let bytes = try FileIO.readBytes(path, limit: 1 << 30)
        return try decode(bytes, source: path)
    }

    /// A result of one known kind: refused unless the file is that kind.
    public static func read<R: ThplabResult & Decodable>(_ path: String, as type: R.Type) throws -> R {
        guard Sys.exists(path) else { throw THPLabError.usage("\(path) does not exist") }
        let bytes = try FileIO.readBytes(path, limit: 1 << 30)
        _ = try decode(bytes, source: path)  // every check the loader makes
        do {
            return try JSONDecoder().decode(R.self, from: try withOptionDefaults(bytes, kind: R.kind))
        } catch {
            throw THPLabError.usage("\(path) is not a thplab \(R.kind.rawValue) result: \(error)")
        }
    }

    /// What the loader needs to know of a file before decoding it whole:
    /// the top-level keys `kind`, `scenario` and `schema_version`. A value
    /// of another type than expected counts as absent.
    struct Head: Decodable {
        var kind: String?
        var scenario: String?
        var schemaVersion: Int?
        enum CodingKeys: String, CodingKey { case kind, scenario, schemaVersion = "schema_version" }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try? c.decodeIfPresent(String.self, forKey: .kind)
            scenario = try? c.decodeIfPresent(String.self, forKey: .scenario)
            schemaVersion = try? c.decodeIfPresent(Int.self, forKey: .schemaVersion)
        }

        /// The kind the JSON says it is: `kind`, or `retract` for the
        /// results of `run retract` (which name their `scenario`).
        var resultKind: String? {
            if let kind { return kind }
            return scenario == ResultKind.retract.rawValue ? ResultKind.retract.rawValue : nil
        }
    }

    /// `knobs show --json`: knob name -> {current, ...}.
    struct KnobEntry: Decodable { var current: JSONValue }

    public static func decode(_ bytes: [UInt8], source: String) throws -> AnyResult {
        guard !bytes.isEmpty else { throw THPLabError.usage("\(source) is empty, not a thplab result") }
        let data = Data(bytes)
        let head: Head
        do { head = try JSONDecoder().decode(Head.self, from: data) } catch DecodingError.typeMismatch {
            throw THPLabError.usage("\(source) is JSON of another kind, not a thplab result")
        } catch {
            throw THPLabError.usage("\(source) is not JSON (truncated or corrupt?): not a thplab result")
        }
        if head.resultKind == nil, let knobs = try? JSONDecoder().decode([String: KnobEntry].self, from: data), !knobs.isEmpty {
            return .other(kind: .knobs, json: pretty(data))
        }
        guard let kind = head.resultKind else {
            throw THPLabError.usage("\(source) is JSON of another kind, not a thplab result (no `kind`)")
        }
        switch head.schemaVersion {
        case let v? where v == schemaVersion: break
        case let v? where v > schemaVersion:
            throw THPLabError.usage("\(source) has schema_version \(v), written by a newer thplab; this one reads version \(schemaVersion): upgrade thplab to read it")
        case let v?:
            throw THPLabError.usage("\(source) has schema_version \(v), older than this thplab reads (\(schemaVersion)): run the experiment again with this thplab")
        case nil:
            throw THPLabError.usage("\(source) has no schema_version: it was not written by this thplab (or by one before schema versions); run the experiment again")
        }
        guard let known = ResultKind(rawValue: kind) else {
            throw THPLabError.usage("\(source) is a thplab \(kind) result, a kind this thplab does not know: upgrade thplab to read it")
        }
        let dec = JSONDecoder()
        do {
            let data = try withOptionDefaults(bytes, kind: known)
            switch known {
            case .retract: return .retract(try dec.decode(RetractResult.self, from: data))
            case .run: return .run(try dec.decode(RegionResult.self, from: data))
            case .sweep: return .sweep(try dec.decode(SweepResult.self, from: data))
            case .watch: return .watch(try dec.decode(WatchResult.self, from: data))
            case .snapshot: return .snapshot(try dec.decode(SnapshotResult.self, from: data))
            case .diff: return .diff(try dec.decode(DiffResult.self, from: data))
            case .matrix: return .matrix(try dec.decode(MatrixResult.self, from: data))
            case .explain: return .explain(try dec.decode(ExplainResult.self, from: data))
            case .battery: return .battery(try dec.decode(BatteryResult.self, from: data))
            case .behaviourDiff: return .behaviourDiff(try dec.decode(BehaviourDiffResult.self, from: data))
            case .mthp: return .mthp(try dec.decode(MthpResult.self, from: data))
            case .mthpSweep: return .mthpSweep(try dec.decode(MthpSweepResult.self, from: data))
            case .benefit: return .benefit(try dec.decode(BenefitResult.self, from: data))
            case .collapse, .vm, .doctor, .knobs: return .other(kind: known, json: pretty(data))
            }
        } catch {
            throw THPLabError.usage("\(source) is a damaged thplab \(kind) result: \(error)")
        }
    }

    /// Results written by an older thplab lack newer options: each missing
    /// option takes today's default, the options' own initial value, so the
    /// options decode with their synthesized code.
    static func withOptionDefaults(_ bytes: [UInt8], kind: ResultKind) throws -> Data {
        let data = Data(bytes)
        guard [.retract, .run, .sweep].contains(kind),
              case .object(var top) = try JSONDecoder().decode(JSONValue.self, from: data),
              case .object(let given)? = top["options"] else { return data }
        let defaults: JSONValue
        if kind == .retract {
            defaults = try JSONValue(encoding: RetractOptions())
        } else {
            guard case .string(let name)? = given["scenario"], let scenario = RegionOptions.Scenario(rawValue: name) else { return data }
            defaults = try JSONValue(encoding: RegionOptions(scenario: scenario))
        }
        guard case .object(var merged) = defaults else { return data }
        merged.merge(given) { _, new in new }
        top["options"] = .object(merged)
        return try JSONEncoder().encode(JSONValue.object(top))
    }

    /// A JSON document as a person reads it: indented, keys sorted.
    static func pretty(_ json: Data) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? JSONDecoder().decode(JSONValue.self, from: json)).flatMap { try? encoder.encode($0) }
            .map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
