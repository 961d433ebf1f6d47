/// One knob as `thplab knobs show --json` reports it.
public struct KnobInfo: Codable, Equatable, Sendable {
    public var current: String
    /// The choices the kernel file offers (choice knobs).
    public var options: [String]?
    /// The documented numeric range (numeric knobs).
    public var min: Int?
    public var max: Int?
    public var kernelDefault: String?
    /// Whether thplab changed it and has not put it back, and from what.
    public var changedByThplab: Bool
    public var original: String?

    enum CodingKeys: String, CodingKey {
        case current, options, min, max, kernelDefault = "kernel_default", changedByThplab = "changed_by_thplab", original
    }

    public static func all(_ knobs: [String: SysfsValue], changed: [HostJournal.Knob]) -> KnobTable {
        var out: [String: KnobInfo] = [:]
        for (name, v) in knobs {
            let rule = THPSysfs.rule(for: name)
            let was = changed.first { $0.name == name }
            out[name] = KnobInfo(current: v.current, options: v.options.isEmpty ? nil : v.options,
                                 min: rule?.range?.lowerBound, max: rule?.range?.upperBound,
                                 kernelDefault: rule?.kernelDefault, changedByThplab: was != nil, original: was?.original)
        }
        return KnobTable(knobs: out)
    }
}

/// `thplab knobs show --json`: knob name -> `KnobInfo`, the table itself
/// without an envelope.
public struct KnobTable: ThplabResult {
    public var knobs: [String: KnobInfo]
    public static let kind = ResultKind.knobs
    public static var enveloped: Bool { false }
    public var view: AnyResult { .other(kind: .knobs, json: ResultEnvelope.prettyJSON(self)) }
    public func encode(to encoder: Encoder) throws { try knobs.encode(to: encoder) }
}
