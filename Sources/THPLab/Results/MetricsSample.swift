/// One scrape for `thplab export`: the target's processes (the largest by
/// resident memory, the rest summed in one row), the system counters, the
/// knobs and what the scrape could not see. Plain values: the exposition
/// renderer turns them into text, nothing here reads the kernel.
public struct MetricsSample: Sendable, Equatable {
    /// One process, or the processes beyond `--top` summed (`pid` nil,
    /// `comm` "other").
    public struct Row: Sendable, Equatable {
        public var pid: Int32?
        public var comm: String
        public var cgroup: String
        /// How many processes the row sums (1 for a process).
        public var processes: Int
        public var pages: ClassCounts
        /// AnonHugePages + ShmemPmdMapped + FilePmdMapped of smaps, kB.
        public var smapsPmdKB: Int
        /// Resident memory each `explain` blocker holds back, kB.
        public var blockedKB: [BlockerKind: Int]

        public init(pid: Int32?, comm: String, cgroup: String, processes: Int = 1, pages: ClassCounts,
                    smapsPmdKB: Int, blockedKB: [BlockerKind: Int]) {
            self.pid = pid
            self.comm = comm
            self.cgroup = cgroup
            self.processes = processes
            self.pages = pages
            self.smapsPmdKB = smapsPmdKB
            self.blockedKB = blockedKB
        }
    }

    /// Something the scrape could not read, and why (nil: it was read).
    public enum Gap: String, CaseIterable, Sendable {
        /// PFNs hidden (no CAP_SYS_ADMIN): PTE-mapped THPs and mTHPs count as small.
        case pfns
        /// Processes of the target that could not be read (another user's, without CAP_SYS_PTRACE).
        case processes
        /// The knobs and khugepaged counters (no THP in this kernel).
        case sysfs
    }

    public var kernelRelease: String
    /// What was asked (`--all`, `--comm postgres`, ...).
    public var targets: [String]
    public var rows: [MetricsSample.Row]
    public var system: SystemCounters
    public var knobs: [String: String]
    /// Processes read in full.
    public var processesRead: Int
    /// Processes of the target left out, by reason: `exited` (before or
    /// during the scrape) or `unreadable`.
    public var processesLeftOut: [String: Int]
    public var gaps: [Gap: String]
    public var durationSeconds: Double

    public init(kernelRelease: String, targets: [String], rows: [MetricsSample.Row], system: SystemCounters,
                knobs: [String: String], processesRead: Int, processesLeftOut: [String: Int], gaps: [Gap: String],
                durationSeconds: Double) {
        self.kernelRelease = kernelRelease
        self.targets = targets
        self.rows = rows
        self.system = system
        self.knobs = knobs
        self.processesRead = processesRead
        self.processesLeftOut = processesLeftOut
        self.gaps = gaps
        self.durationSeconds = durationSeconds
    }

    /// The reasons a process can be left out, always exported (0 when none).
    public static let leftOutReasons = ["exited", "unreadable"]

    /// Keeps the `top` largest rows by resident memory (0: all) and sums the
    /// rest into one row `comm="other"`.
    public static func keepTop(_ rows: [MetricsSample.Row], top: Int) -> [MetricsSample.Row] {
        let sorted = rows.sorted { ($0.pages.resident, $1.pid ?? 0) > ($1.pages.resident, $0.pid ?? 0) }
        guard top > 0, sorted.count > top else { return sorted }
        let rest = sorted[top...]
        var other = MetricsSample.Row(pid: nil, comm: "other", cgroup: "", processes: 0, pages: ClassCounts(), smapsPmdKB: 0, blockedKB: [:])
        for r in rest {
            other.processes += r.processes
            other.pages += r.pages
            other.smapsPmdKB += r.smapsPmdKB
            other.blockedKB.merge(r.blockedKB, uniquingKeysWith: +)
        }
        return Array(sorted[..<top]) + [other]
    }
}
