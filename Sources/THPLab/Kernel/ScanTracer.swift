import FoundationEssentials

/// khugepaged's and MADV_COLLAPSE's tracepoints (`huge_memory/`: the file
/// events `mm_khugepaged_scan_file` and `mm_khugepaged_collapse_file`, the
/// anonymous ones `mm_khugepaged_scan_pmd` and `mm_collapse_huge_page`) in a
/// private tracefs instance. Mounts tracefs only if nothing is mounted, and
/// unmounts only what it mounted; never touches the top-level buffer or
/// another instance. Everything it makes is journaled. Lines are cut into
/// fields by the keys of each event's `format` file, read from the running
/// kernel.
public final class ScanTracer {
    public struct Counts: Sendable, Equatable {
        public var scans = 0
        public var collapses = 0
        public var lastScanResult: String?
    }

    private let guardian: HostGuard
    private let instance: String
    private let mountedHere: String?
    /// The file names the events of interest print (one per object).
    private let objectNames: [String]
    /// The format of every event enabled, by event name.
    public private(set) var formats: [String: TraceFormat] = [:]
    private var stopped = false
    /// The buffer as it was when the tracer stopped.
    private var final: [TraceEvent]?
    private var finalLost: Int?

    public static let fileEvents = ["mm_khugepaged_scan_file", "mm_khugepaged_collapse_file"]
    public static let anonEvents = ["mm_khugepaged_scan_pmd", "mm_collapse_huge_page"]
    static let events = fileEvents + anonEvents
    /// Per CPU: room for tens of thousands of events, so a busy host's
    /// khugepaged does not push the experiment's own out of the ring; at
    /// most 64 MiB in all, however many CPUs the machine has.
    static var bufferKB: Int {
        let cpus = max(1, NumaTopology.parseList(FileIO.readIfPresent("/sys/devices/system/cpu/possible") ?? "0").count)
        return max(1024, min(8192, (64 << 10) / cpus))
    }
    /// Written into the buffer at start: event times count from it.
    public static let startMark = "thplab-start"

    /// Where tracefs is looked for, mounted or not: its own mount point, then
    /// the older one under debugfs.
    static let tracefsRoots = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    public static func start(guardian: HostGuard, objectName: String, notes: inout [String]) -> ScanTracer? {
        start(guardian: guardian, objectNames: [objectName], notes: &notes)
    }

    /// Starts tracing, or returns nil with a note saying why it cannot.
    public static func start(guardian: HostGuard, objectNames: [String], notes: inout [String]) -> ScanTracer? {
        var mounted: String?
        do {
            var root = tracefsRoots.first { Sys.exists($0 + "/instances") }
            if root == nil {
                let target = "/sys/kernel/tracing"
                try guardian.create(.mount, target) {
                    if case .failure(let e) = Sys.result({ try Sys.mountTracefs(at: target) }) {
                        throw THPLabError.system("cannot mount tracefs at \(target)", e)
                    }
                }
                root = target
                mounted = target
            }
            guard let root, Sys.exists(root + "/events/huge_memory/" + events[0]) else {
                throw THPLabError.unsupported("this kernel has no huge_memory/\(events[0]) event")
            }
            let instance = root + "/instances/thplab-\(Sys.pid)"
            try guardian.create(.directory, instance) {
                if case .failure(let e) = Sys.result({ try Sys.mkdir(instance, mode: 0o755) }) {
                    throw THPLabError.system("cannot create the tracefs instance \(instance)", e)
                }
            }
            let tracer = ScanTracer(guardian: guardian, instance: instance, mountedHere: mounted, objectNames: objectNames)
            _ = FileIO.writeExisting(instance + "/buffer_size_kb", "\(bufferKB)")
            for event in events {
                let dir = instance + "/events/huge_memory/\(event)"
                if case .failure(let e) = FileIO.writeExisting(dir + "/enable", "1") {
                    if e != .noSuchFileOrDirectory {
                        notes.append("huge_memory tracepoints: cannot enable \(event) (\(e))")
                    } else if event == "mm_khugepaged_collapse_file" && !objectNames.isEmpty {
                        notes.append("this kernel has no huge_memory/\(event) tracepoint (it came in ~6.2): collapse times come from polling, and collapses of file extents are seen only through scan_file")
                    }
                    continue
                }
                if let text = FileIO.readIfPresent(dir + "/format") { tracer.formats[event] = TraceFormat.parse(text) }
            }
            tracer.mark(startMark)
            return tracer
        } catch {
            if let mounted { guardian.undo(.mount, mounted) }
            notes.append("huge_memory tracepoints not used: \(error)")
            return nil
        }
    }

    private init(guardian: HostGuard, instance: String, mountedHere: String?, objectNames: [String]) {
        self.guardian = guardian
        self.instance = instance
        self.mountedHere = mountedHere
        self.objectNames = objectNames
    }

    /// Writes a line into this instance's buffer (trace_marker), to time
    /// events against a moment of thplab's.
    public func mark(_ text: String) {
        _ = FileIO.writeExisting(instance + "/trace_marker", text)
    }

    static let lockEvent = "mmap_lock/mmap_lock_acquire_returned"

    /// Which hashed mm is each process's: enables the mmap_lock tracepoint
    /// in this instance while `touch` makes every process take its own
    /// mmap_lock, then disables it. An mm is a process's when that process's
    /// own (main) task locked it and no other listed process did. Empty
    /// where the kernel has no mmap_lock events.
    public func identifyProcesses(_ pids: [Int32], touch: () throws -> Void) rethrows -> [String: Int32] {
        let enable = instance + "/events/\(ScanTracer.lockEvent)/enable"
        guard case .success = FileIO.writeExisting(enable, "1") else { return [:] }
        if let text = FileIO.readIfPresent(instance + "/events/\(ScanTracer.lockEvent)/format") {
            formats["mmap_lock_acquire_returned"] = TraceFormat.parse(text)
        }
        defer { _ = FileIO.writeExisting(enable, "0") }
        try touch()
        _ = FileIO.writeExisting(enable, "0")
        return ScanTracer.processes(events: events(), pids: Set(pids))
    }

    static func processes(events: [TraceEvent], pids: Set<Int32>) -> [String: Int32] {
        var lockers: [String: Set<Int32>] = [:]
        for e in events where e.name == "mmap_lock_acquire_returned" && pids.contains(e.pid) {
            if let mm = e.mm { lockers[mm, default: []].insert(e.pid) }
        }
        return lockers.compactMapValues { $0.count == 1 ? $0.first : nil }
    }

    /// Every event (and marker) in the buffer so far, oldest first.
    public func events() -> [TraceEvent] {
        if let final { return final }
        return ScanTracer.parse(trace: FileIO.readIfPresent(instance + "/trace") ?? "", formats: formats)
    }

    public static func parse(trace: String, formats: [String: TraceFormat]) -> [TraceEvent] {
        trace.split(separator: "\n").compactMap { TraceEvent.parse($0, formats: formats) }
    }

    /// Events the ring lost (overwritten before they were read), all CPUs.
    public func lostEvents() -> Int {
        if let finalLost { return finalLost }
        var lost = 0
        var cpu = 0
        while let stats = FileIO.readIfPresent(instance + "/per_cpu/cpu\(cpu)/stats") {
            for line in stats.split(separator: "\n") where line.hasPrefix("overrun:") {
                lost += Int(line.dropFirst(8).trimmingWhitespace()) ?? 0
            }
            cpu += 1
        }
        return lost
    }

    /// Whether khugepaged has emitted no huge_memory event at all, for any
    /// process, since tracing started.
    public func khugepagedSilent() -> Bool {
        if khugepagedSpoke { return false }
        // A plain text search, not a parse: waits call this every few ms.
        let trace = FileIO.readIfPresent(instance + "/trace") ?? ""
        khugepagedSpoke = trace.split(separator: "\n").contains {
            $0.contains("khugepaged-") && ($0.contains(": mm_khugepaged_") || $0.contains(": mm_collapse_huge_page"))
        }
        return !khugepagedSpoke
    }

    /// Set once khugepaged emitted any huge_memory event.
    private var khugepagedSpoke = false

    /// How long an idle khugepaged must stay silent before a wait that
    /// expects no collapse ends early: it scans every few milliseconds
    /// during a run, so seconds of silence mean its list is empty.
    public static let idleSeconds = 3.0

    /// Seconds from the first marker `text` to each successful
    /// `mm_khugepaged_collapse_file` of the object, by its address (`addr`).
    public func collapseTimes(afterMark text: String, objectName: String? = nil) -> [UInt: Double] {
        ScanTracer.collapseTimes(events: events(), mark: text, objectName: objectName ?? objectNames[0])
    }

    public static func collapseTimes(events: [TraceEvent], mark: String, objectName: String) -> [UInt: Double] {
        var t0: Double?
        var out: [UInt: Double] = [:]
        for e in events {
            if t0 == nil, e.markText == mark { t0 = e.timestamp }
            guard let t0, e.name == "mm_khugepaged_collapse_file", e.fields["filename"] == objectName,
                  e.result == ScanResultMeaning.succeeded, let addr = e.hex("addr") else { continue }
            if out[UInt(addr)] == nil { out[UInt(addr)] = e.timestamp - t0 }
        }
        return out
    }

    /// Counts the events so far that name the objects.
    public func counts() -> Counts {
        ScanTracer.count(events: events(), objectNames: Set(objectNames))
    }

    public static func count(events: [TraceEvent], objectNames: Set<String>) -> Counts {
        var c = Counts()
        for e in events {
            guard let f = e.fields["filename"], objectNames.contains(f) else { continue }
            if e.name == "mm_khugepaged_scan_file" {
                c.scans += 1
                c.lastScanResult = e.result
            } else if e.name == "mm_khugepaged_collapse_file" {
                c.collapses += 1
            }
        }
        return c
    }

    /// Disables the events, removes the instance, unmounts tracefs if this
    /// tracer mounted it.
    public func stop() {
        guard !stopped else { return }
        final = events()
        finalLost = lostEvents()
        stopped = true
        // THPLAB_DEBUG_TRACE=PATH keeps the instance's raw trace for a look.
        if let dump = ProcessInfo.processInfo.environment["THPLAB_DEBUG_TRACE"] {
            try? FileIO.writeAtomically(dump, Array((FileIO.readIfPresent(instance + "/trace") ?? "").utf8))
        }
        for event in ScanTracer.events {
            _ = FileIO.writeExisting(instance + "/events/huge_memory/\(event)/enable", "0")
        }
        guardian.undo(.directory, instance)
        if let mountedHere { guardian.undo(.mount, mountedHere) }
    }

    deinit { stop() }
}
