import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// `sweep benefit` on the real kernel: at each point the collapse follows
/// the model (max_ptes_none against the pages touched), the memory added is
/// the zeros of the extents that collapsed, and the chase over the touched
/// pages is timed before and after, beside a small-page control. Speed is
/// never asserted: scripts/bench prints it.
@Suite struct TradeoffKernelTests {
    @Test func eachPointWeighsTheMemoryAddedAgainstTheChase() throws {
        let host = HostSnapshot()
        let extents = 8
        let json = try Thplab.runJSON(["sweep", "benefit", "--knob", "max_ptes_none=0,511", "--touched", "64,448", "--extents", "\(extents)"],
                                      timeout: 240)
        let release = try #require(json["kernel_release"] as? String)
        let context = ExpectationContext(kernel: try #require(KernelVersion(release: release)), backing: .anon, trigger: .khugepaged,
                                         readOnlyThpForFS: nil, shmemHuge: nil)
        let points = json["points"] as? [[String: Any]] ?? []
        #expect(points.count == 4)
        for p in points {
            let knobs = p["knobs"] as? [String: String] ?? [:]
            let none = try #require(Int(knobs["khugepaged/max_ptes_none"] ?? "")), touched = try #require(Int(knobs["touched"] ?? ""))
            var o = RegionOptions(scenario: .benefit)
            o.extents = extents
            o.present = touched
            let (expected, rule) = RegionExperiment.expectation(o, context: context, maxPtesNone: none)
            let b = try #require(p["benefit"] as? [String: Any], "\(knobs)")
            #expect(p["collapsed"] as? Int == expected && b["collapsed"] as? Int == expected, "\(knobs): \(rule)")
            #expect(b["added_kb"] as? Int == expected * (512 - touched) * 4, "\(knobs): the zeros the collapse made resident")
            #expect(b["touched"] as? Int == touched && b["extents"] as? Int == extents && b["rounds"] as? Int == 3)
            // Timed unless the CPU is emulated; the values are the bench's business.
            if Sys.isSoftwareEmulation(Sys.hypervisorSignature()) {
                #expect(b["before"] == nil && b["no_timing"] is String)
            } else {
                for key in ["before", "after", "control_before", "control_after"] {
                    #expect((b[key] as? [String: Any])?["median_ns"] is Double, "\(knobs): \(key)")
                }
                #expect(b["speedup"] is Double && b["measurable"] is Bool && b["control_change"] is Double)
                // Nothing is bought where nothing collapsed: no speedup net of the control there.
                #expect((b["net_speedup"] is Double) == (expected > 0), "\(knobs)")
            }
            #expect(p["coverage_percent"] as? Double == (expected == extents ? 100 : 0), "\(knobs)")
        }
        let check = (json["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "max_ptes_none rule" }
        #expect(check?["held"] as? Bool == true && json["ok"] as? Bool == true, "\(json["differences"] ?? "")")
        host.expectRestored()
    }

    /// Bad input is refused before anything is made.
    @Test func untouchedExtentsAndFilesAreRefused() throws {
        let host = HostSnapshot()
        for args in [["--touched", "0"], ["--backing", "file"], ["--processes", "2"]] {
            let r = try Thplab.run(["sweep", "benefit", "--knob", "max_ptes_none=511"] + args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(args[0]), "\(args): the error names the option: \(r.stderr)")
        }
        host.expectRestored()
    }
}
}
