import Foundation
/// khugepaged's file tracepoints (`huge_memory/mm_khugepaged_scan_file` and
/// `mm_khugepaged_collapse_file`) in a private tracefs instance, counted for
/// one object by the file name the events print. Mounts tracefs only if
/// nothing is mounted, and unmounts only what it mounted; never touches the
/// top-level buffer or another instance. Everything it makes is journaled.
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
    private var stopped = false

    static let events = ["mm_khugepaged_scan_file", "mm_khugepaged_collapse_file"]

    /// Starts tracing, or returns nil with a note saying why it cannot.
    public static func start(guardian: HostGuard, objectName: String, notes: inout [String]) -> ScanTracer? {
        start(guardian: guardian, objectNames: [objectName], notes: &notes)
    }

    public static func start(guardian: HostGuard, objectNames: [String], notes: inout [String]) -> ScanTracer? {
        var mounted: String?
        do {
            var root = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].first { Sys.exists($0 + "/instances") }
            if root == nil {
                let target = "/sys/kernel/tracing"
                try guardian.create(.mount, target) {
                    if case .failure(let e) = Sys.mountTracefs(at: target) {
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
                if case .failure(let e) = Sys.mkdir(instance, mode: 0o755) {
                    throw THPLabError.system("cannot create the tracefs instance \(instance)", e)
                }
            }
            let tracer = ScanTracer(guardian: guardian, instance: instance, mountedHere: mounted, objectNames: objectNames)
            for event in events {
                if case .failure(let e) = FileIO.writeExisting(instance + "/events/huge_memory/\(event)/enable", "1") {
                    notes.append(e == .noSuchFileOrDirectory
                                 ? "this kernel has no huge_memory/\(event) tracepoint (it came in ~6.2): collapse times come from polling"
                                 : "khugepaged tracepoints: cannot enable \(event) (\(e))")
                }
            }
            return tracer
        } catch {
            if let mounted { guardian.undo(.mount, mounted) }
            notes.append("khugepaged tracepoints not used: \(error)")
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

    /// Seconds from the first marker `text` to each `mm_khugepaged_collapse_file`
    /// event of the object that succeeded, by the event's address (`addr`).
    public func collapseTimes(afterMark text: String, objectName: String? = nil) -> [UInt: Double] {
        ScanTracer.collapseTimes(trace: FileIO.readIfPresent(instance + "/trace") ?? "", mark: text,
                                 objectName: objectName ?? objectNames[0])
    }

    public static func collapseTimes(trace: String, mark: String, objectName: String) -> [UInt: Double] {
        var t0: Double?
        var out: [UInt: Double] = [:]
        let needle = "filename=\(objectName),"
        for line in trace.split(separator: "\n") {
            if t0 == nil, line.contains("tracing_mark_write: \(mark)") { t0 = timestamp(line) }
            guard let t0, line.contains("mm_khugepaged_collapse_file:"), line.contains(needle),
                  field("result", in: line) == "succeeded", let ts = timestamp(line),
                  let addr = field("addr", in: line).flatMap({ UInt($0, radix: 16) }) else { continue }
            if out[addr] == nil { out[addr] = ts - t0 }
        }
        return out
    }

    /// The `SECONDS.MICROS:` timestamp of a trace line.
    static func timestamp(_ line: Substring) -> Double? {
        line.split(separator: " ").first { $0.hasSuffix(":") && $0.dropLast().contains(".") && Double($0.dropLast()) != nil }
            .flatMap { Double($0.dropLast()) }
    }

    /// Counts the events so far that name the object.
    public func counts() -> Counts {
        let trace = FileIO.readIfPresent(instance + "/trace") ?? ""
        return objectNames.reduce(Counts()) { acc, name in
            let c = ScanTracer.count(trace: trace, objectName: name)
            return Counts(scans: acc.scans + c.scans, collapses: acc.collapses + c.collapses,
                          lastScanResult: c.lastScanResult ?? acc.lastScanResult)
        }
    }

    /// Counts events in the text of a `trace` file for one file name.
    public static func count(trace: String, objectName: String) -> Counts {
        var c = Counts()
        let needle = "filename=\(objectName),"
        for line in trace.split(separator: "\n") where line.contains(needle) {
            if line.contains("mm_khugepaged_scan_file:") {
                c.scans += 1
                c.lastScanResult = field("result", in: line)
            } else if line.contains("mm_khugepaged_collapse_file:") {
                c.collapses += 1
            }
        }
        return c
    }

    static func field(_ name: String, in line: Substring) -> String? {
        guard let r = line.range(of: name + "=") else { return nil }
        return String(line[r.upperBound...].prefix { $0 != "," && $0 != " " })
    }

    /// Disables the events, removes the instance, unmounts tracefs if this
    /// tracer mounted it.
    public func stop() {
        guard !stopped else { return }
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
