/// The region scenarios by name. Each one is a `RegionScenario` in its own
/// file of Scenarios/, which declares everything about it (what it builds,
/// its defaults, what it allows, its expectation, its sweep checks, the knobs
/// its report shows, its help); everything that lists or chooses scenarios
/// (validation, `run` and `sweep`, the battery, the reports) asks here.
enum ScenarioRegistry {
    /// The scenarios thplab ships, in the order lists show them.
    static let builtIn: [any RegionScenario] = [
        CollapseScenario(), SparseScenario(), LatencyScenario(), SwapScenario(), NumaScenario(), BloatScenario(), SharedScenario(),
        TradeoffScenario(),
    ]

    /// Scenarios registered while running (a test's own): found by name,
    /// never listed with the built-in ones.
    private static let added = Locked<[String: any RegionScenario]>([:])

    static func scenario(named name: String) -> (any RegionScenario)? {
        builtIn.first { $0.name.rawValue == name } ?? added.get()[name]
    }

    /// Adds a scenario that is not built in; its name must be new.
    static func register(_ s: any RegionScenario) throws -> RegionOptions.Scenario {
        let name = s.name.rawValue
        try added.update { added in
            guard !builtIn.contains(where: { $0.name.rawValue == name }), added[name] == nil else {
                throw THPLabError.usage("a scenario named \(name) is already registered")
            }
            added[name] = s
        }
        return s.name
    }
}

extension RegionOptions {
    /// A region scenario's name: what options and results carry (in JSON,
    /// the name as a string), and the key to its `RegionScenario`.
    public struct Scenario: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
        public let rawValue: String

        /// A registered scenario's name; nil for any other.
        public init?(rawValue: String) {
            guard ScenarioRegistry.scenario(named: rawValue) != nil else { return nil }
            self.rawValue = rawValue
        }

        /// The name a scenario declares for itself (its own file's `static let`).
        init(declaring name: String) { rawValue = name }

        public init(from decoder: Decoder) throws {
            let name = try decoder.singleValueContainer().decode(String.self)
            guard let s = Scenario(rawValue: name) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no scenario is named \(name)"))
            }
            self = s
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(rawValue)
        }

        public var description: String { rawValue }

        /// The built-in scenarios that `run` runs, in order.
        public static var allCases: [Scenario] { ScenarioRegistry.builtIn.filter { !$0.onlySwept }.map(\.name) }
        /// The built-in scenarios that `sweep` runs, in order.
        public static var swept: [Scenario] { ScenarioRegistry.builtIn.filter(\.sweepable).map(\.name) }

        /// Registers a scenario that is not built in (a test's), so that
        /// options, runs and saved results can name it.
        static func register(_ s: some RegionScenario) throws -> Scenario { try ScenarioRegistry.register(s) }

        /// The scenario's declarations.
        var rules: any RegionScenario {
            guard let s = ScenarioRegistry.scenario(named: rawValue) else {
                preconditionFailure("scenario \(rawValue) was declared but never registered: add it to ScenarioRegistry.builtIn")
            }
            return s
        }
    }
}
