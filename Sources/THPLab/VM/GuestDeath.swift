/// Why a guest ended without writing thplab's exit code, read from its
/// console (the kernel log and virtme-ng's own lines, `vng --verbose`).
/// A pure judgement over text, so that real consoles are its fixtures.
public struct GuestDeath: Codable, Sendable, Equatable {
    public enum Cause: String, Codable, Sendable {
        /// The kernel never printed its banner: qemu or vng failed to start it.
        case neverBooted = "never booted"
        /// An `Oops:`, `BUG:` or general protection fault.
        case kernelOops = "kernel oops"
        /// A panic without an oops before it (no root, init killed, ...).
        case kernelPanic = "kernel panic"
        /// The guest's OOM killer ran.
        case outOfMemory = "out of memory"
        /// The guest booted but did not start thplab before the boot deadline.
        case bootStalled = "boot stalled"
        /// thplab ran past the run's time limit.
        case timeLimit = "time limit"
        /// The kernel booted and nothing in its log says why it ended.
        case unexplained
    }

    public var cause: Cause
    /// Whether run.sh had started thplab when the guest ended.
    public var startedThplab: Bool
    /// The console lines that show the cause (the oops and its RIP, the
    /// panic, the OOM kill), or the last lines where none does.
    public var quote: [String]
    /// What the cause means, in a sentence.
    public var meaning: String
    /// The console's last lines, whatever they say.
    public var tail: [String]
    /// The last lines thplab wrote to stderr in the guest, when it had
    /// started: its progress, so where it was when the guest ended.
    public var thplabSaid: [String]?

    enum CodingKeys: String, CodingKey {
        case cause, startedThplab = "started_thplab", quote, meaning, tail, thplabSaid = "thplab_said"
    }

    /// A guest that died before thplab ran, whatever the cause and however
    /// long it took, is safe to boot again: it never ran thplab, so no
    /// result is hidden. One that started thplab is never booted again: an
    /// oops there may be a kernel bug thplab's workload triggers (a finding).
    public var bootAgain: Bool { !startedThplab }

    /// Reads the console. `timedOut`: thplab ran past the run's limit;
    /// `bootDeadlinePassed`: thplab had not started by the boot deadline.
    public static func classify(console: String, startedThplab: Bool, timedOut: Bool = false,
                                bootDeadlinePassed: Bool = false, tailLines: Int = 20) -> GuestDeath {
        let lines = console.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { String($0) }
        let clean = lines.map(stripTimestamp)
        let tail = Array(clean.filter { !$0.trimmingWhitespace().isEmpty }.suffix(tailLines))
        func first(_ p: (String) -> Bool) -> Int? { clean.firstIndex(where: p) }
        let panic = first { $0.contains("Kernel panic - not syncing") }
        let booted = clean.contains { $0.contains("Linux version") }
        let when = startedThplab ? "after thplab started" : "before thplab started"

        if let oops = first({ $0.hasPrefix("Oops:") || $0.contains("] Oops:") || $0.hasPrefix("BUG:") || $0.hasPrefix("general protection fault") }) {
            var quote = [clean[oops]]
            if let rip = clean[oops...].first(where: { $0.hasPrefix("RIP:") }) { quote.append(rip) }
            if let panic { quote.append(clean[panic]) }
            let int3 = clean[oops].contains("int3")
            let meaning = int3 && !startedThplab
                ? "the guest kernel hit a stale int3 while it patched its own code (static keys, text_poke) \(when): under qemu's multi-threaded software emulation another vCPU can still run the breakpoint after the patch is done; an artefact of emulation (one vCPU, or single-threaded emulation, avoids it), not a kernel bug"
                : "the guest kernel oopsed \(when)" + (startedThplab ? ": if thplab's workload triggers it, that is a kernel finding to record with these lines and the release" : "")
            return GuestDeath(cause: .kernelOops, startedThplab: startedThplab, quote: quote, meaning: meaning, tail: tail)
        }
        if let panic {
            return GuestDeath(cause: .kernelPanic, startedThplab: startedThplab, quote: [clean[panic]],
                              meaning: "the guest kernel panicked \(when)", tail: tail)
        }
        if let oom = first({ $0.contains("Out of memory: Killed process") || $0.contains("invoked oom-killer") }) {
            let killed = clean[oom...].first { $0.contains("Out of memory: Killed process") } ?? clean[oom]
            return GuestDeath(cause: .outOfMemory, startedThplab: startedThplab, quote: [killed],
                              meaning: "the guest ran out of memory \(when) and its OOM killer ran: give the guest more (--memory)", tail: tail)
        }
        if timedOut {
            return GuestDeath(cause: .timeLimit, startedThplab: startedThplab, quote: Array(tail.suffix(3)),
                              meaning: "thplab was still running in the guest at the time limit; it was stopped", tail: tail)
        }
        if !booted {
            return GuestDeath(cause: .neverBooted, startedThplab: startedThplab, quote: Array(tail.suffix(5)),
                              meaning: tail.isEmpty ? "qemu or virtme-ng ended without a word, before the kernel printed its banner"
                                                    : "the kernel never printed its banner: qemu or virtme-ng failed to start it", tail: tail)
        }
        if bootDeadlinePassed {
            return GuestDeath(cause: .bootStalled, startedThplab: false, quote: Array(tail.suffix(3)),
                              meaning: "the kernel booted but virtme-ng's init had not started thplab by the boot deadline; the guest was stopped", tail: tail)
        }
        return GuestDeath(cause: .unexplained, startedThplab: startedThplab, quote: Array(tail.suffix(3)),
                          meaning: "the guest ended \(when) and its console does not say why", tail: tail)
    }

    /// `[    3.141592] text` -> `text`.
    static func stripTimestamp(_ line: String) -> String {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return line }
        let stamp = line[line.index(after: line.startIndex)..<close].trimmingWhitespace()
        guard !stamp.isEmpty, stamp.allSatisfy({ $0.isNumber || $0 == "." }) else { return line }
        return String(line[line.index(after: close)...].drop { $0 == " " })
    }

    /// Several lines: the cause and meaning, the quoted lines, the tail.
    public var description: String {
        var out = ["\(cause.rawValue): \(meaning)"]
        if !quote.isEmpty { out.append("  the console said:"); out += quote.map { "    " + $0 } }
        if let said = thplabSaid {
            out.append("  thplab in the guest said last:")
            out += said.isEmpty ? ["    (nothing)"] : said.map { "    " + $0 }
        }
        if tail != quote {
            out.append("  its last lines:")
            out += tail.isEmpty ? ["    (nothing)"] : tail.map { "    " + $0 }
        }
        return out.joined(separator: "\n")
    }
}
