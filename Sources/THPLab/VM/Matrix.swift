import Dispatch
import FoundationEssentials

public enum Matrix {
    /// Builds the side-by-side view from each column's behaviour rows: one
    /// row per subject any kernel has, in the order they first appear.
    public static func build(arguments: [String], columns: [(MatrixColumn, [BehaviourRow]?)]) -> MatrixResult {
        var keys: [String] = []
        var seen: [String: BehaviourRow] = [:]
        for (_, rows) in columns {
            for r in rows ?? [] where seen[r.key] == nil {
                keys.append(r.key)
                seen[r.key] = r
            }
        }
        var out: [MatrixRow] = []
        // Rows where the kernels differ in the same way, for the same rules,
        // are one line: the subjects, then each outcome with its kernels.
        var patterns: [(text: String, names: [String])] = []
        var findings: [String] = []
        for key in keys {
            let found = columns.map { _, rows in rows?.first { $0.key == key } }
            // A kernel without the row (its column failed, or the row does not
            // apply there) shows "-"; the column's own verdict says why.
            let cells = found.map { r in MatrixCell(observed: r?.observed, expected: r?.expected, met: r?.met ?? true, reason: r?.rule) }
            let disagree = Set(cells.compactMap(\.observed).filter { $0 != BehaviourRow.unknown }).count > 1
            let row = seen[key]!
            out.append(MatrixRow(process: row.group, role: row.subject, cells: cells, disagree: disagree))
            let name = "\(row.group) \(row.subject)"
            if disagree {
                let text = outcomes(labels: columns.map(\.0.label), cells: cells)
                if let i = patterns.firstIndex(where: { $0.text == text }) { patterns[i].names.append(name) } else { patterns.append((text, [name])) }
            }
            let unmet = zip(columns, cells).filter { !$0.1.met }.map { "\($0.0.0.label) did \($0.1.observed ?? "-"), the model expected \($0.1.expected ?? "-")" }
            if !unmet.isEmpty {
                findings.append("\(name): " + unmet.joined(separator: "; ") + (disagree ? " (the kernels differ here and the model has no rule for it)" : ""))
            }
        }
        let disagreements = patterns.map { $0.names.joined(separator: ", ") + " — " + $0.text }
        let ok = columns.allSatisfy { $0.0.ok } && findings.isEmpty
        return MatrixResult(arguments: arguments, columns: columns.map(\.0), rows: out, disagreements: disagreements,
                            findings: findings, ok: ok)
    }

    /// How the guests of a matrix are booted.
    public struct GuestOptions: Sendable {
        public var memory = "2G"
        public var cpus = 1
        public var numa: [String] = []
        public var consoleDirectory: String?
        /// Guests booted at once: software emulation keeps a host CPU busy
        /// per vCPU, so by default as many as the host has CPUs for.
        public var parallel: Int
        public init(parallel: Int? = nil) {
            self.parallel = parallel ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        }
    }

    /// `thplab matrix`: the same thplab command (a run, a sweep, doctor or
    /// the battery) on the host, if asked, and in a VM per kernel image,
    /// side by side. The host runs first, alone (its runs are timed); then
    /// the guests, `parallel` at a time (each is its own kernel, with
    /// knobs of its own). Every column keeps its whole result.
    public static func run(arguments: [String], images: [KernelImage], host: Bool, guests g: GuestOptions,
                           log: @escaping @Sendable (String) -> Void) throws -> MatrixResult {
        var columns: [(MatrixColumn, JSONValue?)] = []
        if host { columns.append(try onHost(arguments, log: log)) }
        if let first = images.first { _ = VirtualMachine.kvmWorks(kernel: first) }  // probed once, before guests race to
        let slots = Locked<[(MatrixColumn, JSONValue?)?]>(Array(repeating: nil, count: images.count))
        let failure = Locked<Error?>(nil)
        let gate = DispatchSemaphore(value: max(1, min(g.parallel, images.count)))
        let group = DispatchGroup()
        for (i, image) in images.enumerated() {
            gate.wait()
            if failure.get() != nil { gate.signal(); break }
            DispatchQueue.global().async(group: group) {
                defer { gate.signal() }
                do {
                    let c = try column(arguments, image: image, guests: g, log: log)
                    slots.update { $0[i] = c }
                } catch {
                    failure.update { $0 = $0 ?? error }
                }
            }
        }
        group.wait()
        if let e = failure.get() { throw e }
        columns += slots.get().compactMap { $0 }
        return build(arguments: arguments, columns: columns.map { col, v in
            var c = col
            let result = OwnRun.decode(v)
            if case .object(let o)? = v, case .string(let k)? = o["kernel_release"] { c.kernelRelease = k }
            c.ok = result != nil && c.exitCode == 0
            c.result = v
            return (c, result.flatMap(Behaviour.rows))
        })
    }

    /// One guest's column; a guest that does not boot or hangs gives a
    /// column that says so, and the others still run.
    static func column(_ arguments: [String], image: KernelImage, guests g: GuestOptions,
                       log: @escaping @Sendable (String) -> Void) throws -> (MatrixColumn, JSONValue?) {
        var o = VirtualMachine.Options(kernel: image)
        o.memory = g.memory
        o.cpus = g.cpus
        o.numa = g.numa
        o.consoleDirectory = g.consoleDirectory
        let label = image.release ?? image.path
        let say: (String) -> Void = { log("\(label): " + $0) }
        do {
            let v = try VirtualMachine.run(o, arguments: arguments, wantJSON: true, log: say)
            let note = v.result == nil ? OwnRun.why(exitCode: v.exitCode, stderr: v.stderr) : nil
            say("exit \(v.exitCode) after \(v.seconds) s (\(v.acceleration)\(v.boots.count > 1 ? ", \(v.boots.count) boots" : ""))")
            var c = MatrixColumn(label: label, kernelRelease: image.release ?? "?", how: v.acceleration, exitCode: v.exitCode, ok: false, note: note)
            c.boots = v.boots
            return (c, v.result)
        } catch let e as THPLabError where e.kind == .system {
            say(e.description)
            return (MatrixColumn(label: label, kernelRelease: image.release ?? "?", how: "failed", exitCode: e.exitCode, ok: false, note: e.message), nil)
        }
    }

    /// Each outcome once, with the kernels that had it and its rule:
    /// `host, 6.12: pmd-mapped (rule); 6.1: pte-mapped (rule)`.
    static func outcomes(labels: [String], cells: [MatrixCell]) -> String {
        var order: [String] = []
        var who: [String: [String]] = [:]
        for (label, cell) in zip(labels, cells) {
            let outcome = (cell.observed ?? "-") + (cell.reason.map { " (\($0))" } ?? "")
            if who[outcome] == nil { order.append(outcome) }
            who[outcome, default: []].append(label)
        }
        return order.map { "\(who[$0]!.joined(separator: ", ")): \($0)" }.joined(separator: "; ")
    }

    /// The run on the host's own kernel: thplab again, as a child.
    static func onHost(_ arguments: [String], log: (String) -> Void) throws -> (MatrixColumn, JSONValue?) {
        log("host: thplab \(arguments.joined(separator: " "))")
        let r = try OwnRun.run(arguments)
        log("host: exit \(r.exitCode) after \(r.seconds) s")
        let note = r.json == nil ? OwnRun.why(exitCode: r.exitCode, stderr: r.stderr) : nil
        return (MatrixColumn(label: "host", kernelRelease: Sys.uname().release, how: "host", exitCode: r.exitCode, ok: false, note: note), r.json)
    }
}
