import Foundation
import Testing
@testable import THPLab

/// The worked example of docs/architecture.md: a scenario is one file. This
/// one is registered by the test alone (thplab does not ship it), and the
/// region experiment runs it like a built-in one: a 4 MiB memfd mapped
/// shared by thplab and one other process, MADV_COLLAPSE on thplab's
/// mapping, and the expectation model's verdict on both.
struct ToyScenario: RegionScenario {
    var name: RegionOptions.Scenario { .init(declaring: "toy") }
    var abstract: String { "A 4 MiB memfd shared by two processes, collapsed by MADV_COLLAPSE: PMD-mapped in both." }
    var discussion: String { "The example of docs/architecture.md." }
    var defaultExtents: Int { 2 }
    var defaultTrigger: Trigger { .madvise }
    var allowsMadviseCollapse: Bool { true }
    var holders: [MappingRole] { [.shared] }
}

extension KernelSuite {
@Suite struct ToyScenarioKernelTests {
    static let toy = Result { try RegionOptions.Scenario.register(ToyScenario()) }

    @Test func theToyScenarioIsOneFileAndRunsOnTheKernel() throws {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        let o = RegionOptions(scenario: try Self.toy.get())
        #expect(o.extents == 2 && o.backing == .memfd && o.trigger == .madvise)
        var log: [String] = []
        let r = try RegionRunner.run(options: o, executable: Thplab.binary, log: { log.append($0) }, progress: { _ in })

        // What the model says of this kernel, from the knobs in force.
        let knobs = r.knobsInForce.mapValues { SysfsValue(current: $0) }
        let context = ExpectationContext(kernel: try #require(KernelVersion(release: r.kernelRelease)), backing: .memfd, trigger: .madvise,
                                         readOnlyThpForFS: KernelConfig.load(release: r.kernelRelease).isSet("CONFIG_READ_ONLY_THP_FOR_FS"),
                                         shmemHuge: KnobPlan.effectiveShmemHuge(knobs: knobs, backing: .memfd, mountHuge: nil))
        let own = RegionExperiment.expectation(o, context: context, maxPtesNone: knobs.int(.maxPtesNone, or: 511))
        let other = ExpectationModel.expect(role: .shared, inTriggerProcess: false, isTriggerMapping: false, context)

        #expect(r.scenario.rawValue == "toy")
        #expect(r.collapsed == own.0, "thplab's extents: \(own.1)")
        #expect(r.extents.allSatisfy { $0.collapsed == (own.0 > 0) && ($0.pagesAfter[.pmd] == 512) == (own.0 > 0) })
        let holder = try #require(r.holders?.first, "the other process's mapping was judged")
        #expect(r.holders?.count == 1 && holder.pid != Int32(getpid()) && !holder.inTriggerProcess)
        #expect(holder.expectedState == other.state, "\(other.rule)")
        #expect(holder.phase(.refaulted)?.state == other.state, "\(holder.phases)")
        #expect(holder.phase(.populated)?.state == .pteMapped, "it started on small pages")
        let ok = r.ok
        #expect(ok, "\(r.differences)")
        // The point of the toy: nothing blocks MADV_COLLAPSE of a memfd on
        // this host, so the model says PMD-mapped in both processes.
        #expect(ExpectationModel.collapseBlocker(context) == nil, "the toy needs a host where MADV_COLLAPSE of a memfd works")
        #expect(own.0 == 2 && other.state == .pmdMapped)
        let text = RegionTextReport.render(r)
        #expect(text.contains("thplab run toy:") && text.contains("the object in another process"), "\(text)")
        #expect(HTMLExperiments.region(r).contains("<h3>The object in another process</h3>"))
    }
}
}
