import Foundation

/// Shows experiment progress: a line rewritten in place on a terminal,
/// plain lines otherwise (to stderr, so stdout stays clean for results).
public final class ProgressLine {
    private let live: Bool
    private var lastPlain: UInt64 = 0
    private var dirty = false

    /// - Parameter live: rewrite one line in place (stdout is a terminal).
    public init(live: Bool) { self.live = live }

    public func show(_ p: ExperimentProgress) {
        switch p {
        case .step(let s):
            clear()
            write(live ? "\(s)\n" : "thplab: \(s)\n", toStdout: live)
        case .waiting(let elapsed, let bound, let scans, let collapsed, let total):
            let text = String(format: "waiting for khugepaged: %.1f s of %d s, %lld full scan(s), %d/%d extent(s) collapsed",
                              elapsed, bound, scans, collapsed, total)
            if live {
                write("\r\u{1B}[K" + text, toStdout: true)
                dirty = true
            } else {
                // One plain line a second is enough for a log.
                let now = Sys.monotonicNanoseconds()
                if now - lastPlain >= 1_000_000_000 || collapsed == total {
                    lastPlain = now
                    write("thplab: \(text)\n", toStdout: false)
                }
            }
        }
    }

    /// Ends the live line, if one is showing.
    public func clear() {
        if dirty {
            write("\r\u{1B}[K", toStdout: true)
            dirty = false
        }
    }

    private func write(_ s: String, toStdout: Bool) {
        (toStdout ? FileHandle.standardOutput : FileHandle.standardError).write(Data(s.utf8))
    }
}
