import THPLab

/// The one live line of `run`, `sweep` and `watch`: rewritten in place when
/// stdout is a terminal that carries the table, plain lines otherwise
/// (progress to stderr, so stdout stays clean for results). The library
/// reports progress through callbacks; this is where it is shown.
final class ProgressLine {
    let live: Bool
    private var lastPlain: UInt64 = 0
    private var dirty = false

    init(output: OutputOptions) { live = !output.toStdout && ThisProcess.isTerminal(1) }

    /// Rewrites the live line; without one, `plain` says where the text goes
    /// (nil: nowhere).
    func update(_ text: String, plain: ((String) -> Void)? = nil) {
        if live {
            write("\r\u{1B}[K" + text, stdout: true)
            dirty = true
        } else {
            plain?(text)
        }
    }

    /// A line that stays: the live line is cleared first.
    func step(_ text: String) {
        clear()
        write(live ? "\(text)\n" : "thplab: \(text)\n", stdout: live)
    }

    /// An experiment's progress: steps as lines, the khugepaged wait as the
    /// live line (one plain line a second is enough for a log).
    func show(_ p: ExperimentProgress) {
        switch p {
        case .step(let s): step(s)
        case .waiting(let elapsed, let bound, let scans, let collapsed, let total):
            let text = String(cFormat: "waiting for khugepaged: %.1f s of %d s, %lld full scan(s), %d/%d extent(s) collapsed",
                              elapsed, bound, scans, collapsed, total)
            update(text) { text in
                let now = ThisProcess.monotonicNanoseconds()
                if now - self.lastPlain >= 1_000_000_000 || collapsed == total {
                    self.lastPlain = now
                    self.write("thplab: \(text)\n", stdout: false)
                }
            }
        }
    }

    /// Ends the live line, if one is showing.
    func clear() {
        if dirty {
            write("\r\u{1B}[K", stdout: true)
            dirty = false
        }
    }

    /// Ends the live line and keeps its last text.
    func finish() {
        if dirty {
            write("\n", stdout: true)
            dirty = false
        }
    }

    private func write(_ s: String, stdout: Bool) {
        FileIO.writeStandard(Array(s.utf8), errors: !stdout)
    }
}
