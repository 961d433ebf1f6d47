import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// The behaviour fingerprint of this build on this kernel against the one
/// saved before scenarios became a registry with one collapse context
/// (Tests/THPLabTests/Fixtures/battery-6.18.json): a change in how a
/// scenario is built, triggered or judged shows as a changed row.
@Suite struct FingerprintKernelTests {
    static let saved = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("THPLabTests/Fixtures/battery-6.18.json").path

    @Test func theBatteryMatchesTheSavedFingerprint() throws {
        try #require(KernelGate.available, "kernel tests must run as root on a THP kernel")
        try #require(Sys.uname().release.hasPrefix("6.18."), "the saved fingerprint is 6.18's; this is \(Sys.uname().release)")
        let before = try ResultFile.read(Self.saved, as: BatteryResult.self)
        let host = HostSnapshot()
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-fingerprint-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Thplab.run(["battery", "--json", dir + "/battery.json"], timeout: 600)
        #expect(r.status == 0, "battery: exit \(r.status) \(r.stderr.suffix(2000))")
        host.expectRestored()
        let after = try ResultFile.read(dir + "/battery.json", as: BatteryResult.self)
        let d = BehaviourDiff.diff(before: before, after: after)
        #expect(d.changes.isEmpty, "\(d.changes.map { "\($0.group): \($0.subject): \($0.before ?? "-") -> \($0.after ?? "-")" })")
        // A row the saved fingerprint could not tell is not compared: doctor's
        // tracepoint count is known only where tracefs is mounted, which is
        // the host's state (the saved one had it unmounted), not behaviour.
        let untold = before.rows.filter(\.isUnknown).map { "\($0.group): \($0.subject): " }
        let told = d.unknown.filter { u in !untold.contains { u.hasPrefix($0) } }
        #expect(told.isEmpty, "rows the saved fingerprint told and this run could not: \(told)")
        #expect(d.unchanged + d.unknown.count == before.rows.count && after.rows.count == before.rows.count,
                "\(d.unchanged) of \(before.rows.count) saved rows unchanged, \(d.unknown.count) untold, \(after.rows.count) rows now")
    }
}
}
