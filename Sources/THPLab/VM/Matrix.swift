import Foundation

public enum Matrix {
    /// Builds the side-by-side view from each column's `run retract` result.
    public static func build(arguments: [String], columns: [(MatrixColumn, RetractResult?)]) -> MatrixResult {
        var keys: [(String, String)] = []
        for (_, r) in columns {
            for key in keysOf(r) where !keys.contains(where: { $0 == key }) { keys.append(key) }
        }
        var rows: [MatrixRow] = []
        var disagreements: [String] = []
        for (process, role) in keys {
            let cells = columns.map { (_, r) -> MatrixCell in
                guard let m = mapping(r, process: process, role: role) else {
                    return MatrixCell(observed: nil, expected: nil, met: false, reason: nil)
                }
                return MatrixCell(observed: m.phase(.refaulted)?.state.rawValue, expected: m.expectedState.rawValue,
                                  met: m.met, reason: m.reason)
            }
            let observed = Set(cells.compactMap(\.observed))
            let disagree = observed.count > 1
            rows.append(MatrixRow(process: process, role: role, cells: cells, disagree: disagree))
            if disagree {
                let each = zip(columns, cells).map { col, cell in "\(col.0.label): \(cell.observed ?? "-") (\(cell.reason ?? "no rule"))" }
                disagreements.append("\(process) \(role): " + each.joined(separator: "; "))
            }
        }
        let ok = columns.allSatisfy { $0.0.ok } && rows.allSatisfy { $0.cells.allSatisfy(\.met) }
        return MatrixResult(arguments: arguments, columns: columns.map(\.0), rows: rows, disagreements: disagreements, ok: ok)
    }

    /// (process label, role) of every mapping, thplab's process first.
    static func keysOf(_ r: RetractResult?) -> [(String, String)] {
        guard let r else { return [] }
        return r.mappings.map { (label(r, $0), $0.role.rawValue + ($0.triggerMapping ? "*" : "")) }
    }

    static func label(_ r: RetractResult, _ m: MappingResult) -> String {
        if m.inTriggerProcess { return "thplab" }
        let workers = Array(Set(r.mappings.filter { !$0.inTriggerProcess }.map(\.pid))).sorted()
        return "worker \((workers.firstIndex(of: m.pid) ?? 0) + 1)"
    }

    static func mapping(_ r: RetractResult?, process: String, role: String) -> MappingResult? {
        r?.mappings.first { label(r!, $0) == process && $0.role.rawValue + ($0.triggerMapping ? "*" : "") == role }
    }

    /// `thplab matrix`: the same `run retract` (or `doctor`) on the host, if
    /// asked, and in a VM per kernel image, side by side.
    public static func run(arguments: [String], images: [KernelImage], host: Bool, memory: String,
                           log: (String) -> Void) throws -> MatrixResult {
        var columns: [(MatrixColumn, JSONValue?)] = []
        if host { columns.append(try onHost(arguments)) }
        for image in images {
            var o = VirtualMachine.Options(kernel: image)
            o.memory = memory
            let label = image.release ?? image.path
            do {
                let v = try VirtualMachine.run(o, arguments: arguments, wantJSON: true, log: log)
                columns.append((MatrixColumn(label: label, kernelRelease: image.release ?? "?", how: v.acceleration,
                                             exitCode: v.exitCode, ok: false), v.result))
            } catch let e as THPLabError where e.kind == .system {
                // A guest that does not boot or hangs: its column says so, the others still run.
                log("\(label): \(e.description)")
                columns.append((MatrixColumn(label: label, kernelRelease: image.release ?? "?", how: "failed", exitCode: e.exitCode,
                                             ok: false, note: e.message), nil))
            }
        }
        if arguments.first == "doctor" {
            let reports = columns.map { col, v -> (MatrixColumn, DoctorReport?) in
                let d = doctorReport(v)
                var c = col
                c.ok = d != nil && col.exitCode == 0
                if let d { c.kernelRelease = d.kernelRelease }
                return (c, d)
            }
            return capabilities(arguments: arguments, columns: reports)
        }
        return build(arguments: arguments, columns: columns.map { col, v in
            let r = retractResult(v)
            var c = col
            c.ok = r?.ok ?? false
            if let r { c.kernelRelease = r.kernelRelease }
            return (c, r)
        })
    }

    /// The run on the host's own kernel: thplab again, its JSON to a
    /// temporary file, its table to /dev/null.
    static func onHost(_ arguments: [String]) throws -> (MatrixColumn, JSONValue?) {
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-matrix-")
        defer { _ = try? Sys.unlink(dir + "/host.json"); _ = try? Sys.rmdir(dir) }
        let status = try Sys.runQuietly(Sys.ownExecutable(), arguments + ["--json", dir + "/host.json"])
        let value = (try? FileIO.readBytes(dir + "/host.json", limit: 1 << 28)).flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0)) }
        let code: Int32
        switch status {
        case .exited(let c)?: code = c
        case .signaled(let sig)?: code = 128 + sig
        case nil: code = 1
        }
        return (MatrixColumn(label: "host", kernelRelease: Sys.uname().release, how: "host", exitCode: code, ok: false), value)
    }

    /// Each kernel's capability table side by side: one row per capability,
    /// the rows where kernels differ listed (they are findings, not failures).
    static func capabilities(arguments: [String], columns: [(MatrixColumn, DoctorReport?)]) -> MatrixResult {
        let names = ["THP sizes", "per-size stats files", "huge_memory tracepoints", "smaps THP fields", "THP_enabled in status",
                     "PAGEMAP_SCAN", "MADV_COLLAPSE", "process_madvise(MADV_COLLAPSE)"]
        var rows: [MatrixRow] = []
        var disagreements: [String] = []
        for (i, name) in names.enumerated() {
            let cells = columns.map { _, d in
                MatrixCell(observed: d?.capabilities.map { capability(i, $0) }, expected: nil, met: true, reason: nil)
            }
            let disagree = Set(cells.compactMap(\.observed)).count > 1
            rows.append(MatrixRow(process: "kernel", role: name, cells: cells, disagree: disagree))
            if disagree {
                disagreements.append("\(name): " + zip(columns, cells).map { "\($0.0.label): \($1.observed ?? "-")" }.joined(separator: "; "))
            }
        }
        return MatrixResult(arguments: arguments, columns: columns.map(\.0), rows: rows, disagreements: disagreements,
                            ok: columns.allSatisfy { $0.0.ok })
    }

    /// One capability in a few words.
    static func capability(_ i: Int, _ c: Capabilities) -> String {
        func yes(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? "?" }
        switch i {
        case 0:
            let sizes = c.sizeDirectories.map { String($0.dropFirst(10)) }
            return sizes.isEmpty ? "PMD only" : "\(sizes.count): \(sizes.first!)-\(sizes.last!)"
        case 1: return c.statsFiles.isEmpty ? "none" : "\(c.statsFiles.count)"
        case 2: return c.tracepoints.map { "\($0.count)" } ?? "tracefs not mounted"
        case 3: return c.thpSmapsFields.joined(separator: " ")
        case 4: return yes(c.statusTHPEnabled)
        case 5: return yes(c.pagemapScan)
        case 6: return yes(c.madviseCollapse)
        default: return yes(c.processMadviseCollapse)
        }
    }

    static func doctorReport(_ v: JSONValue?) -> DoctorReport? {
        guard let v, let data = try? JSONEncoder().encode(v) else { return nil }
        return try? JSONDecoder().decode(DoctorReport.self, from: data)
    }

    /// Decodes a guest's result as a retract result.
    public static func retractResult(_ v: JSONValue?) -> RetractResult? {
        guard let v, let data = try? JSONEncoder().encode(v),
              case .retract(let r)? = try? ResultFile.decode(Array(data), source: "the guest's result") else { return nil }
        return r
    }
}
