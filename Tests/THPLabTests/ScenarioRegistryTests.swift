import Foundation
import Testing
@testable import THPLab

/// A scenario is a value in the registry: one that thplab does not ship
/// (a test's) is found by name, never listed, validated by its own
/// declarations, and carried through options and results like a built-in.
@Suite struct ScenarioRegistryTests {
    struct Lent: RegionScenario {
        var name: RegionOptions.Scenario { .init(declaring: "lent-to-a-test") }
        var abstract: String { "a scenario of this test's own" }
        var discussion: String { "" }
        var defaultExtents: Int { 3 }
        var defaultTrigger: Trigger { .madvise }
        var allowsMadviseCollapse: Bool { true }
        var holders: [MappingRole] { [.shared, .privateClean] }
    }

    static let lent = Result { try RegionOptions.Scenario.register(Lent()) }

    @Test func aRegisteredScenarioIsFoundButNotListed() throws {
        let s = try Self.lent.get()
        #expect(RegionOptions.Scenario(rawValue: "lent-to-a-test") == s)
        #expect(!RegionOptions.Scenario.allCases.contains(s))
        #expect(RegionOptions.Scenario.allCases.map(\.rawValue) == ["collapse", "sparse", "latency", "swap", "numa", "bloat", "shared"])
        #expect(RegionOptions.Scenario(rawValue: "no-such-scenario") == nil)
        #expect(s.abstract == "a scenario of this test's own")
        let o = RegionOptions(scenario: s)
        #expect(o.extents == 3 && o.trigger == .madvise && o.present == PageGeometry.pagesPerPmd)
    }

    @Test func aNameIsRegisteredOnce() throws {
        _ = try Self.lent.get()
        #expect(throws: THPLabError.self) { try RegionOptions.Scenario.register(Lent()) }
        struct Impostor: RegionScenario {
            var name: RegionOptions.Scenario { .collapse }
            var abstract: String { "" }
            var discussion: String { "" }
        }
        #expect(throws: THPLabError.self) { try RegionOptions.Scenario.register(Impostor()) }
        #expect(RegionOptions.Scenario.collapse.abstract.hasPrefix("The simplest experiment"))
    }

    /// Holders map the object in another process: anonymous memory has
    /// none to share, and their populate would fault in every page.
    @Test func holdersNeedAnObjectAndEveryPage() throws {
        var o = RegionOptions(scenario: try Self.lent.get())
        #expect(throws: Never.self) { try o.validate(room: nil, topology: SweepModelTests.oneNode) }
        o.backing = .anon
        #expect { try o.validate(room: nil, topology: SweepModelTests.oneNode) } throws: { "\($0)".contains("--backing memfd, tmpfs, shm or file") }
        o.backing = .memfd
        o.present = 100
        #expect { try o.validate(room: nil, topology: SweepModelTests.oneNode) } throws: { "\($0)".contains("give --present 512") }
    }

    /// Options and results name the scenario by its name, as before; a name
    /// nothing registered is refused when read back.
    @Test func theScenarioIsItsNameInJSON() throws {
        let o = RegionOptions(scenario: .sparse)
        let json = String(decoding: try JSONEncoder().encode(o), as: UTF8.self)
        #expect(json.contains("\"scenario\":\"sparse\""))
        #expect(try JSONDecoder().decode(RegionOptions.self, from: Data(json.utf8)) == o)
        let unknown = json.replacingOccurrences(of: "\"sparse\"", with: "\"no-such-scenario\"")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RegionOptions.self, from: Data(unknown.utf8)) }
    }
}
