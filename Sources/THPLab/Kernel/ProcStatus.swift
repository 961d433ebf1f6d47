/// /proc/PID/status lines thplab reads.
public enum ProcStatus {
    /// `THP_enabled:` (5.0+): 0 when prctl(PR_SET_THP_DISABLE) disabled THP
    /// for the whole process. On 6.18 the PR_THP_DISABLE_EXCEPT_ADVISED mode
    /// still prints 1 (only MMF_DISABLE_THP_COMPLETELY prints 0), so that
    /// mode cannot be seen from outside.
    /// THP_enabled of a running process; nil when it cannot be read.
    public static func thpEnabled(pid: Int32, procRoot: String = "/proc") -> Bool? {
        FileIO.readIfPresent("\(procRoot)/\(pid)/status").flatMap(thpEnabled)
    }

    public static func thpEnabled(_ text: String) -> Bool? {
        for line in text.split(separator: "\n") where line.hasPrefix("THP_enabled:") {
            return line.dropFirst("THP_enabled:".count).trimmingWhitespace() != "0"
        }
        return nil
    }
}
