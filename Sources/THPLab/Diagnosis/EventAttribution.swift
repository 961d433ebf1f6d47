/// One extent of one of the experiment's objects (an anonymous region
/// counts as an object).
public struct ExtentRef: Hashable, Sendable {
    public var object: Int
    public var extent: Int
    public init(object: Int, extent: Int) {
        self.object = object
        self.extent = extent
    }
}

/// A huge_memory event as a result shows it.
public struct DiagnosedEvent: Codable, Equatable, Sendable {
    /// Seconds since tracing started.
    public var t: Double
    /// `scan_file`, `collapse_file`, `scan_pmd` or `collapse_huge_page`.
    public var event: String
    /// `khugepaged`, or `madvise` for a task in MADV_COLLAPSE.
    public var by: String
    /// The process whose memory it is about, where known.
    public var pid: Int32?
    public var mm: String?
    public var result: String?
    /// The event's other fields as the kernel printed them.
    public var details: [String: String]
    /// For a run of identical events (khugepaged retrying every pass):
    /// how many, and the time of the last; nil for a single event.
    public var count: Int?
    public var tLast: Double?
    /// The processes of a folded run that spans several (khugepaged takes
    /// them in turn); `pid` and `mm` are then nil.
    public var pids: [Int32]?

    enum CodingKeys: String, CodingKey { case t, event, by, pid, mm, result, details, count, tLast = "t_last", pids }

    func repeats(_ o: DiagnosedEvent) -> Bool {
        event == o.event && result == o.result && by == o.by && details == o.details
    }

    /// Folds runs of identical consecutive events (any process) into one
    /// with a count, the time of the last, and the processes.
    static func folded(_ events: [DiagnosedEvent]) -> [DiagnosedEvent] {
        var out: [DiagnosedEvent] = []
        var runPids: [Set<Int32>] = []
        for e in events {
            if let last = out.last, last.repeats(e) {
                out[out.count - 1].count = (last.count ?? 1) + 1
                out[out.count - 1].tLast = e.t
                if last.mm != e.mm {
                    out[out.count - 1].mm = nil
                    out[out.count - 1].pid = nil
                }
                if let p = e.pid { runPids[runPids.count - 1].insert(p) }
            } else {
                out.append(e)
                runPids.append(e.pid.map { [$0] } ?? [])
            }
        }
        for i in out.indices where out[i].pid == nil && runPids[i].count > 0 && (out[i].count ?? 1) > 1 {
            out[i].pids = runPids[i].sorted()
        }
        return out
    }
}

/// What the experiment is made of, for attributing events: its objects
/// (the file name their events print; nil for anonymous memory, with the
/// process that owns it), every mapping of them, and the PFNs seen in
/// each extent.
public struct TraceSubject: Sendable {
    public struct Object: Sendable {
        public var traceName: String?
        public var owner: Int32?
        /// Its number of 2 MiB extents: an event of a one-extent object is
        /// that extent's even when it names no page.
        public var extents: Int
        public init(traceName: String?, owner: Int32?, extents: Int = 0) {
            self.traceName = traceName
            self.owner = owner
            self.extents = extents
        }
    }

    public struct Mapping: Sendable {
        public var pid: Int32
        public var object: Int
        public var start: UInt
        public var end: UInt
        /// The object offset mapped at `start`.
        public var offset: UInt
        public init(pid: Int32, object: Int, start: UInt, end: UInt, offset: UInt) {
            self.pid = pid
            self.object = object
            self.start = start
            self.end = end
            self.offset = offset
        }
    }

    public var objects: [Object]
    public var mappings: [Mapping]
    public var pfnExtent: [UInt64: ExtentRef]
    /// Hashed mm -> pid learnt before the run (mmap_lock tracepoint).
    public var knownMMs: [String: Int32]

    public init(objects: [Object], mappings: [Mapping], pfnExtent: [UInt64: ExtentRef] = [:], knownMMs: [String: Int32] = [:]) {
        self.objects = objects
        self.mappings = mappings
        self.pfnExtent = pfnExtent
        self.knownMMs = knownMMs
    }

    var pids: Set<Int32> { Set(mappings.map(\.pid)) }
}

/// Sorts a trace into the experiment's events, per extent, and everyone
/// else's. Processes are told apart by the hashed `mm` each event prints:
/// an mm is some process's when that process's own task emitted an event
/// (MADV_COLLAPSE), when a collapse names an address only that process
/// maps the object at, when an anonymous event names a PFN of a region
/// only that process owns, or, last, when one mm and one process are left.
/// Pure: unit-tested on fixture traces.
public struct EventAttribution: Sendable {
    public var byExtent: [ExtentRef: [DiagnosedEvent]] = [:]
    /// The experiment's events whose extent is unknown, per object.
    public var byObject: [Int: [DiagnosedEvent]] = [:]
    public var others: [DiagnosedEvent] = []
    public var mmPids: [String: Int32] = [:]
    public var total = 0

    public var ours: Int {
        (byExtent.values.flatMap { $0 } + byObject.values.flatMap { $0 }).reduce(0) { $0 + ($1.count ?? 1) }
    }

    static let extentPages = UInt64(PageGeometry.pagesPerPmd)

    public static func attribute(_ events: [TraceEvent], subject: TraceSubject) -> EventAttribution {
        var out = EventAttribution()
        let huge = events.filter { ScanTracer.events.contains($0.name) }
        out.total = huge.count
        let t0 = events.first { $0.markText == ScanTracer.startMark }?.timestamp ?? events.first?.timestamp ?? 0
        var placer = Placer(subject: subject)
        out.mmPids = learnProcesses(huge, subject: subject, objectByName: placer.objectByName)
        placer.mmPids = out.mmPids
        let placed = placer.place(huge)
        for (i, e) in huge.enumerated() {
            var d = DiagnosedEvent(t: ((e.timestamp - t0) * 1_000_000).rounded() / 1_000_000,
                                   event: e.name.replacingPrefix("mm_khugepaged_", "").replacingPrefix("mm_", ""),
                                   by: e.byKhugepaged ? "khugepaged" : "madvise", pid: e.mm.flatMap { out.mmPids[$0] },
                                   mm: e.mm, result: e.result, details: [:])
            for (k, v) in e.fields where !["mm", "result", "status", "filename"].contains(k) { d.details[k] = v }
            if let ref = placed.refs[i] {
                out.byExtent[ref, default: []].append(d)
            } else if let o = placed.objects[i] {
                out.byObject[o, default: []].append(d)
            } else {
                if let f = e.fields["filename"] { d.details["filename"] = f }
                out.others.append(d)
            }
        }
        out.byExtent = out.byExtent.mapValues(DiagnosedEvent.folded)
        out.byObject = out.byObject.mapValues(DiagnosedEvent.folded)
        out.others = DiagnosedEvent.folded(out.others)
        return out
    }

    /// Ties each event to its object and, where it can be told, its extent.
    struct Placer {
        let subject: TraceSubject
        let objectByName: [String: Int]
        var mmPids: [String: Int32] = [:]
        /// The PFNs seen, and those of each huge page a collapse made.
        var pfnExtent: [UInt64: ExtentRef]

        init(subject: TraceSubject) {
            self.subject = subject
            pfnExtent = subject.pfnExtent
            objectByName = Dictionary(subject.objects.enumerated().compactMap { i, o in o.traceName.map { ($0, i) } },
                                      uniquingKeysWith: { a, _ in a })
        }

        mutating func place(_ huge: [TraceEvent]) -> (refs: [ExtentRef?], objects: [Int?]) {
            var refs: [ExtentRef?] = []
            var objects: [Int?] = []
            for e in huge {
                let (object, ref) = e.fields["filename"] != nil ? placeFile(e) : placeAnon(e)
                refs.append(ref)
                objects.append(object)
            }
            follow(huge, &refs, objects)
            for i in huge.indices where refs[i] == nil {
                if let o = objects[i], subject.objects[o].extents == 1 { refs[i] = ExtentRef(object: o, extent: 0) }
            }
            return (refs, objects)
        }

        /// collapse_file: its new huge page, else its address in a mapping
        /// (its `index` is where the scan ended, which kernels have printed
        /// differently).
        mutating func placeFile(_ e: TraceEvent) -> (Int?, ExtentRef?) {
            guard let o = e.fields["filename"].flatMap({ objectByName[$0] }) else { return (nil, nil) }
            var ref: ExtentRef?
            if let pfn = e.hex("scan_pfn") ?? e.hex("hpage_pfn"), let r = pfnExtent[pfn], r.object == o {
                ref = r
            } else if e.name == "mm_khugepaged_collapse_file", let addr = e.hex("addr") {
                let pid = e.mm.flatMap { mmPids[$0] }
                let candidates = Set(subject.mappings.filter {
                    $0.object == o && (pid == nil || $0.pid == pid) && UInt(addr) >= $0.start && UInt(addr) < $0.end
                }.map { Int((UInt(addr) - $0.start + $0.offset) / UInt(PageGeometry.pmdSize)) })
                if candidates.count == 1 { ref = ExtentRef(object: o, extent: candidates.first!) }
            }
            if let ref, e.name == "mm_khugepaged_collapse_file", let head = e.hex("hpage_pfn") {
                for p in head..<head + extentPages { pfnExtent[p] = ref }
            }
            return (o, ref)
        }

        /// scan_pmd and collapse_huge_page: a PFN of an anonymous region, or
        /// the process that owns one.
        func placeAnon(_ e: TraceEvent) -> (Int?, ExtentRef?) {
            guard e.name.hasSuffix("scan_pmd") || e.name.hasSuffix("collapse_huge_page") else { return (nil, nil) }
            if let pfn = e.hex("scan_pfn"), let r = pfnExtent[pfn], subject.objects[r.object].traceName == nil {
                return (r.object, r)
            }
            if let mm = e.mm, let pid = mmPids[mm] {
                return (subject.objects.firstIndex { $0.traceName == nil && $0.owner == pid }, nil)
            }
            return (nil, nil)
        }

        /// A successful file scan prints no PFN: it follows its collapse_file.
        /// collapse_huge_page comes before the scan_pmd that names the PFN.
        func follow(_ huge: [TraceEvent], _ refs: inout [ExtentRef?], _ objects: [Int?]) {
            for i in huge.indices where refs[i] == nil && objects[i] != nil {
                let e = huge[i]
                if e.name == "mm_khugepaged_scan_file" && e.fields["scan_pfn"] != nil && e.hex("scan_pfn") == nil {
                    refs[i] = stride(from: i - 1, through: 0, by: -1).first {
                        huge[$0].name == "mm_khugepaged_collapse_file" && huge[$0].mm == e.mm && objects[$0] == objects[i]
                    }.flatMap { refs[$0] }
                } else if e.name == "mm_collapse_huge_page" {
                    refs[i] = (i + 1 ..< huge.count).first {
                        huge[$0].name == "mm_khugepaged_scan_pmd" && huge[$0].mm == e.mm
                    }.flatMap { refs[$0] }
                }
            }
        }
    }

    /// mm -> pid for the experiment's processes.
    static func learnProcesses(_ events: [TraceEvent], subject: TraceSubject, objectByName: [String: Int]) -> [String: Int32] {
        var map = subject.knownMMs
        let pids = subject.pids
        for e in events {
            guard let mm = e.mm, map[mm] == nil else { continue }
            if !e.byKhugepaged && pids.contains(e.pid) {
                map[mm] = e.pid
            } else if e.name == "mm_khugepaged_collapse_file", let name = e.fields["filename"],
                      let o = objectByName[name], let addr = e.hex("addr") {
                let owners = Set(subject.mappings.filter { $0.object == o && UInt(addr) >= $0.start && UInt(addr) < $0.end }.map(\.pid))
                if owners.count == 1 { map[mm] = owners.first }
            } else if let pfn = e.hex("scan_pfn"), let r = subject.pfnExtent[pfn],
                      subject.objects[r.object].traceName == nil, let owner = subject.objects[r.object].owner {
                map[mm] = owner
            }
        }
        // One unknown mm on the experiment's objects and one process left.
        let ourMMs = Set(events.filter { $0.fields["filename"].map { objectByName[$0] != nil } ?? false }.compactMap(\.mm))
        let unknown = ourMMs.subtracting(map.keys)
        let left = pids.subtracting(map.values)
        if unknown.count == 1 && left.count == 1 { map[unknown.first!] = left.first! }
        return map
    }
}

extension String {
    func replacingPrefix(_ prefix: String, _ with: String) -> String {
        hasPrefix(prefix) ? with + dropFirst(prefix.count) : self
    }
}

extension EventAttribution {
    /// Whether any event of the experiment's named the object.
    public func saw(object: Int) -> Bool {
        byObject[object].map { !$0.isEmpty } ?? false || byExtent.keys.contains { $0.object == object }
    }
}
