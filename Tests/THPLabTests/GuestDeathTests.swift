import Foundation
import Testing
@testable import THPLab

/// Real consoles (`vng --verbose`) of guests of Debian's 6.1 and 6.12 that
/// died, each read as thplab reads a guest that wrote no exit code.
@Suite struct GuestDeathTests {
    func death(_ fixture: String, started: Bool = false, timedOut: Bool = false, deadline: Bool = false) throws -> GuestDeath {
        GuestDeath.classify(console: try Fixture.text(fixture), startedThplab: started, timedOut: timedOut, bootDeadlinePassed: deadline)
    }

    /// The lines of the CI guest that died at boot under multi-threaded
    /// emulation (6.12.118, KERNEL-NOTES "Guests can die silently"): the
    /// oops is quoted, with the panic, and read as the emulation artefact.
    static let int3 = """
        [    3.012345] sched_clock: Marking stable (2911224391, 100963228)->(3049839446, -37651827)
        [    3.013001] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
        [    3.013002] CPU: 1 UID: 0 PID: 0 Comm: swapper/1 Not tainted 6.12.118+deb12-amd64 #1  Debian 6.12.118-1~bpo12+1
        [    3.013003] RIP: 0010:sched_clock_cpu+0x9/0x1a0
        [    3.013100] Kernel panic - not syncing: Fatal exception in interrupt
        """

    @Test func anOopsIsQuotedWithItsRIPAndPanic() {
        let d = GuestDeath.classify(console: Self.int3, startedThplab: false)
        #expect(d.cause == .kernelOops && d.bootAgain)
        #expect(d.quote == ["Oops: int3: 0000 [#1] PREEMPT SMP NOPTI", "RIP: 0010:sched_clock_cpu+0x9/0x1a0",
                            "Kernel panic - not syncing: Fatal exception in interrupt"])
        #expect(d.meaning.contains("artefact of emulation"))
        #expect(d.description.contains("the console said:"))
    }

    /// An oops while thplab ran may be a kernel bug its workload triggers:
    /// never booted again, and not called an artefact.
    @Test func anOopsAfterThplabStartedIsAFindingNotRetried() {
        let d = GuestDeath.classify(console: Self.int3, startedThplab: true)
        #expect(d.cause == .kernelOops && !d.bootAgain)
        #expect(d.meaning.contains("finding") && !d.meaning.contains("artefact"))
    }

    /// `echo c > /proc/sysrq-trigger` in a 6.12 guest: a panic with no
    /// oops before it, quoted without its timestamp.
    @Test func aPanicWithoutAnOops() throws {
        let d = try death("console-sysrq-6.12.txt", started: true)
        #expect(d.cause == .kernelPanic && !d.bootAgain)
        #expect(d.quote == ["Kernel panic - not syncing: sysrq triggered crash"])
        #expect(try !death("console-sysrq-6.12.txt").startedThplab && death("console-sysrq-6.12.txt").bootAgain)
    }

    /// The OOM killer in a 6.1 guest of 384M running `tail /dev/zero`.
    @Test func theOOMKillersLineIsQuoted() throws {
        let d = try death("console-oom-6.1.txt", started: true)
        #expect(d.cause == .outOfMemory)
        #expect(d.quote.first?.contains("Out of memory: Killed process") == true && d.quote.first?.contains("tail") == true, "\(d.quote)")
        #expect(d.meaning.contains("--memory"))
    }

    /// qemu refused an option: the kernel never printed its banner.
    @Test func qemuThatNeverStartedTheKernel() throws {
        let d = try death("console-qemu-error.txt")
        #expect(d.cause == .neverBooted && d.bootAgain)
        #expect(d.quote.contains { $0.contains("qemu-system-x86_64") }, "\(d.quote)")
    }

    /// An empty console (CI saw `vng exit 255` and nothing else).
    @Test func anEmptyConsole() {
        let d = GuestDeath.classify(console: "", startedThplab: false)
        #expect(d.cause == .neverBooted && d.bootAgain && d.tail.isEmpty)
        #expect(d.meaning.contains("without a word"))
    }

    /// A guest that booted and powered down: nothing says why thplab's exit
    /// code is missing; a boot past the deadline; a run past its limit.
    @Test func aCleanConsoleIsUnexplainedStalledOrTimedOut() throws {
        #expect(try death("console-ok-6.12.txt", started: true).cause == .unexplained)
        let stalled = try death("console-ok-6.12.txt", deadline: true)
        #expect(stalled.cause == .bootStalled && stalled.bootAgain)
        let late = try death("console-ok-6.12.txt", started: true, timedOut: true)
        #expect(late.cause == .timeLimit && !late.bootAgain)
        #expect(late.tail.count == 20 && late.tail.last == "reboot: Power down")
    }

    @Test(arguments: [("[    3.141592] Oops: int3", "Oops: int3"), ("[ 0.000000] Linux version 6.1", "Linux version 6.1"),
                      ("[not a stamp] x", "[not a stamp] x"), ("plain", "plain")])
    func timestampsAreStripped(line: String, text: String) {
        #expect(GuestDeath.stripTimestamp(line) == text)
    }
}

@Suite struct VirtualMachineOptionTests {
    @Test(arguments: [(1, ["1G,cpus=0", "1G"], true), (2, ["1G,cpus=0", "1G,cpus=1"], true), (1, ["1G,cpus=0", "1G,cpus=1"], false),
                      (2, ["2G,cpus=0-1"], true), (1, ["2G,cpus=0-1"], false), (2, ["1G,cpus=x"], false), (0, [], false), (65, [], false)])
    func cpusMustCoverTheNodes(cpus: Int, numa: [String], valid: Bool) {
        let accepted = (try? VirtualMachine.check(cpus: cpus, numa: numa)) != nil
        #expect(accepted == valid)
    }

    @Test func theMessageSaysWhatToGive() {
        #expect(throws: THPLabError.self) { try VirtualMachine.check(cpus: 1, numa: ["1G,cpus=0", "1G,cpus=1"]) }
        do { try VirtualMachine.check(cpus: 1, numa: ["1G,cpus=1"]) } catch { #expect("\(error)".contains("--cpus 2")) }
    }
}

/// The retry rule over made-up boots: which deaths boot the guest again,
/// and what the error says when one does not.
@Suite struct GuestRetryTests {
    static let image = KernelImage(path: "/boot/vmlinuz-6.12.118+deb12-amd64", release: "6.12.118+deb12-amd64")

    func ran(_ n: Int) -> VirtualMachine.BootOutcome {
        .ran(VMRunResult(kernel: Self.image, acceleration: "tcg", accelerationNote: "", memory: "2G", cpus: 1, numa: [], arguments: ["doctor"],
                         exitCode: 0, stdout: "", stderr: "", result: nil, seconds: 30, boots: []),
             GuestBoot(number: n, seconds: 30, vngExit: 0, death: nil, console: nil))
    }

    func died(_ n: Int, started: Bool) -> VirtualMachine.BootOutcome {
        let d = GuestDeath.classify(console: GuestDeathTests.int3, startedThplab: started)
        return .died(d, GuestBoot(number: n, seconds: 16, vngExit: 255, death: d, console: nil))
    }

    func run(_ outcomes: [VirtualMachine.BootOutcome]) throws -> (VMRunResult, [String], Int) {
        var said: [String] = []
        var booted = 0
        let r = try VirtualMachine.bootUntilItRuns(label: "6.12.118+deb12-amd64", log: { said.append($0) }) { n in
            booted += 1
            return outcomes[n - 1]
        }
        return (r, said, booted)
    }

    @Test func aDeathBeforeThplabStartedIsBootedOnceMoreAndKept() throws {
        let (r, said, booted) = try run([died(1, started: false), ran(2)])
        #expect(booted == 2 && r.boots.count == 2)
        #expect(r.boots[0].death?.cause == .kernelOops && r.boots[1].death == nil)
        #expect(said.count == 1 && said[0].contains("Oops: int3") && said[0].contains("booting it once more"))
    }

    @Test func aDeathWhileThplabRanIsNeverBootedAgain() throws {
        var booted = 0
        #expect(throws: THPLabError.self) {
            _ = try VirtualMachine.bootUntilItRuns(label: "k", log: { _ in }) { n in booted += 1; return died(n, started: true) }
        }
        #expect(booted == 1)
    }

    @Test func aSecondDeathFailsWithBothConsoles() throws {
        do {
            _ = try run([died(1, started: false), died(2, started: false), ran(3)])
            Issue.record("a third boot")
        } catch {
            let text = "\(error)"
            #expect(text.contains("boot 1 died too") && text.contains("boot 2, vng exit 255"), "\(text)")
            // Each console's oops, quoted, and again in its last lines: both consoles.
            #expect(text.components(separatedBy: "Oops: int3").count - 1 == 2 * 2, "both consoles quoted: \(text)")
        }
    }

    @Test func aGuestThatRanIsBootedOnce() throws {
        let (r, said, booted) = try run([ran(1)])
        #expect(booted == 1 && r.boots.count == 1 && said.isEmpty)
    }
}
