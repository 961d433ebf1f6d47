
/// Why one extent ended as it did: its events, the last scan result, and
/// the reason in words. `inferred` marks a reason no event gave: one taken
/// from the mapping's state and the kernel's rules.
public struct ExtentDiagnosis: Codable, Equatable, Sendable {
    public var events: [DiagnosedEvent]
    public var lastScanResult: String?
    public var reason: String
    public var inferred: Bool

    enum CodingKeys: String, CodingKey {
        case events, lastScanResult = "last_scan_result", reason, inferred
    }

    /// What is known about the extent besides its events.
    public struct Facts: Sendable {
        public var collapsed: Bool
        public var trigger: Trigger
        /// The errno of MADV_COLLAPSE on this extent, if it failed.
        public var errnoName: String?
        /// Whether the tracepoints were read at all.
        public var traced: Bool
        /// Whether any event named the extent's object (or, anonymous,
        /// its process) during the run.
        public var objectSeen: Bool
        /// What the kernel's rules say stops the collapse, if anything.
        public var blocker: String?
        public var fullScans: Int64?
        /// The object's events that name no extent.
        public var objectEvents: [DiagnosedEvent]
        /// Whether this kernel has a tracepoint that marks the collapse
        /// (6.1 has none for files).
        public var collapseTraced = true

        public init(collapsed: Bool, trigger: Trigger, errnoName: String? = nil, traced: Bool, objectSeen: Bool,
                    blocker: String? = nil, fullScans: Int64? = nil, objectEvents: [DiagnosedEvent] = []) {
            self.objectEvents = objectEvents
            self.collapsed = collapsed
            self.trigger = trigger
            self.errnoName = errnoName
            self.traced = traced
            self.objectSeen = objectSeen
            self.blocker = blocker
            self.fullScans = fullScans
        }
    }

    static let scanEvents: Set<String> = ["scan_file", "scan_pmd"]
    static let collapseEvents: Set<String> = ["collapse_file", "collapse_huge_page"]

    /// A collapse event that made the huge page: `succeeded`, or, from
    /// MADV_COLLAPSE, `pte_mapped_hugepage` (the folio is made and the
    /// page table is collapsed next, by collapse_pte_mapped_thp()).
    static func madeHugePage(_ e: DiagnosedEvent) -> Bool {
        collapseEvents.contains(e.event) && (e.result == ScanResultMeaning.succeeded || e.result == ScanResultMeaning.pteMappedHugepage)
    }

    public static func diagnose(events: [DiagnosedEvent], facts f: Facts) -> ExtentDiagnosis {
        var last = events.last { scanEvents.contains($0.event) }?.result
        let success = events.first { madeHugePage($0) }
        func made(_ reason: String, inferred: Bool) -> ExtentDiagnosis {
            ExtentDiagnosis(events: events, lastScanResult: last, reason: reason, inferred: inferred)
        }
        let who = f.trigger == .khugepaged ? "khugepaged" : "MADV_COLLAPSE"
        if f.collapsed {
            if let s = success {
                return made("collapsed by \(s.by == "khugepaged" ? "khugepaged" : "MADV_COLLAPSE") at \(String(cFormat: "%.3f", s.t)) s", inferred: false)
            }
            let why = !f.traced ? "" : f.collapseTraced ? " (no collapse event was seen for it)"
                : " (this kernel has no tracepoint for a file collapse; on Debian's 6.1 the scan that collapsed an extent prints result=failed)"
            return made("collapsed by \(who)" + why, inferred: true)
        }
        // Refusals the kernel named, latest first.
        let failed = events.last { ($0.result ?? ScanResultMeaning.succeeded) != ScanResultMeaning.succeeded && !madeHugePage($0) }
        if let r = failed?.result {
            var words = "\(failed!.event) \(ScanResultMeaning.of(r))"
            if let present = failed!.details["present"] { words += " (present=\(present)\(failed!.details["swap"].map { ", swap=\($0)" } ?? ""))" }
            else if let none = failed!.details["none_or_zero"] { words += " (none_or_zero=\(none))" }
            if success != nil { words = "collapsed, then \(words)" }
            return made(words, inferred: false)
        }
        // The object's scans that name no extent: the kernel's words, but
        // not tied to this extent.
        if events.isEmpty, let failed = f.objectEvents.last(where: { ($0.result ?? ScanResultMeaning.succeeded) != ScanResultMeaning.succeeded && !madeHugePage($0) }),
           let r = failed.result {
            last = f.objectEvents.last { scanEvents.contains($0.event) }?.result
            var words = "\(failed.event) \(ScanResultMeaning.of(r))"
            if let present = failed.details["present"] { words += " (present=\(present))" }
            return made(words + " — for the object: the event names no extent (scan_file prints no address, and no page when the scan stops before one)", inferred: false)
        }
        if let errno = f.errnoName {
            return made("MADV_COLLAPSE failed with \(errno): \(CollapseErrno.meaning(errno))" + (f.blocker.map { "; \($0)" } ?? ""), inferred: true)
        }
        if f.trigger == .khugepaged && f.traced && !f.objectSeen {
            let scans = f.fullScans.map { " (\($0) full scan(s) of its list)" } ?? ""
            let cause = f.blocker ?? "it was not on khugepaged's list, or the VMA was not eligible"
            return made("khugepaged never visited the process during the wait\(scans): \(cause)", inferred: true)
        }
        if let blocker = f.blocker { return made(blocker, inferred: true) }
        guard f.traced else {
            return made("not collapsed; without tracepoints the kernel's reason is unknown", inferred: true)
        }
        if f.trigger == .khugepaged {
            return made("khugepaged looked at the object but not at this extent before the wait ended", inferred: true)
        }
        return made("not collapsed, and no event names this extent", inferred: true)
    }
}

/// What MADV_COLLAPSE's errnos mean (madvise(2), mm/khugepaged.c).
public enum CollapseErrno {
    public static func meaning(_ name: String) -> String {
        switch name {
        case ErrnoName.einval: return "the range is not eligible (VMA flags such as VM_NOHUGEPAGE, misalignment, or a setting that forbids THP there)"
        case ErrnoName.eagain: return "a page was locked or had an extra reference (transient: try again)"
        case ErrnoName.enomem: return "no huge page could be allocated"
        case ErrnoName.ebusy: return "the memory cgroup charge for the huge page failed (or a scan limit such as exceed_none_pte was hit)"
        case ErrnoName.eperm: return "not permitted (process_madvise needs CAP_SYS_ADMIN and ptrace access)"
        case ErrnoName.esrch: return "the process is gone"
        default: return "an error thplab has no words for"
        }
    }
}
