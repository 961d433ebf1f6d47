import Foundation
import Testing
@testable import THPLab

extension KernelSuite {
/// `collapse --measure`: the user's command runs before and after the
/// collapse, as given (no shell), and a command that cannot run or fails
/// before stops everything before any memory changes.
@Suite struct MeasureKernelTests {
    @Test func theCommandRunsBeforeAndAfterAndItsFigureIsShown() throws {
        try #require(KernelGate.available)
        let c = try CoverageKernelTests.Classes()
        let vma = String(c.small.start, radix: 16)
        let r = try Thplab.run(["collapse", "--pid", "\(getpid())", "--vma", vma, "--measure", "/bin/echo 'rate: 42 ops/s'", "--json", "-"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        #expect(json["succeeded"] as? Int == 1)
        let m = try #require(json["measure"] as? [String: Any])
        #expect(m["command"] as? [String] == ["/bin/echo", "rate: 42 ops/s"], "the quotes group a word; no shell")
        for phase in ["before", "after"] {
            let run = m[phase] as? [String: Any]
            #expect(run?["exit_code"] as? Int == 0 && run?["figure"] as? String == "rate: 42 ops/s", "\(phase): \(run ?? [:])")
        }
        let text = try Thplab.run(["collapse", "--pid", "\(getpid())", "--vma", vma, "--measure", "/bin/true"], timeout: 120)
        #expect(text.stdout.contains("measure: /bin/true") && text.stdout.contains("before: no figure printed"), "\(text.stdout)")
        withExtendedLifetime(c) {}
    }

    /// A command that does not exist (exit 2) or fails before the collapse
    /// (exit 3): nothing is collapsed.
    @Test func aCommandThatCannotRunStopsBeforeAnyCollapse() throws {
        try #require(KernelGate.available)
        let c = try CoverageKernelTests.Classes()
        let vma = String(c.small.start, radix: 16)
        let missing = try Thplab.run(["collapse", "--pid", "\(getpid())", "--vma", vma, "--measure", "no-such-benchmark -x"], timeout: 60)
        #expect(missing.status == 2 && missing.stderr.contains("no command no-such-benchmark"), "\(missing.status) \(missing.stderr)")
        let failing = try Thplab.run(["collapse", "--pid", "\(getpid())", "--vma", vma, "--measure", "/bin/sh -c 'echo broken >&2; exit 4'"], timeout: 60)
        #expect(failing.status == 3 && failing.stderr.contains("failed before the collapse (exit 4: broken); nothing was collapsed"),
                "\(failing.status) \(failing.stderr)")
        let counts = try VmaScanner(pid: Sys.pid, withPages: false).scan(start: c.small.start, end: c.small.end).counts
        #expect(counts.pmd == 0 && counts.small == 512, "the small region is as it was: \(counts)")
        withExtendedLifetime(c) {}
    }
}
}
