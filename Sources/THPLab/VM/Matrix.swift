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

    /// `thplab matrix`: the same `run retract` on the host (if asked) and
    /// in a VM per kernel image, side by side.
    public static func run(arguments: [String], images: [KernelImage], host: Bool, memory: String,
                           log: (String) -> Void) throws -> MatrixResult {
        var columns: [(MatrixColumn, RetractResult?)] = []
        if host { columns.append(try onHost(arguments)) }
        for image in images {
            var o = VirtualMachine.Options(kernel: image)
            o.memory = memory
            let label = image.release ?? image.path
            do {
                let v = try VirtualMachine.run(o, arguments: arguments, wantJSON: true, log: log)
                let r = retractResult(v.result)
                columns.append((MatrixColumn(label: label, kernelRelease: r?.kernelRelease ?? image.release ?? "?",
                                             how: v.acceleration, exitCode: v.exitCode, ok: r?.ok ?? false), r))
            } catch let e as THPLabError where e.kind == .system {
                // A guest that does not boot or hangs: its column says so, the others still run.
                log("\(label): \(e.description)")
                columns.append((MatrixColumn(label: label, kernelRelease: image.release ?? "?", how: "failed", exitCode: e.exitCode,
                                             ok: false, note: e.message), nil))
            }
        }
        return build(arguments: arguments, columns: columns)
    }

    /// The run on the host's own kernel: thplab again, its JSON to a
    /// temporary file, its table to /dev/null.
    static func onHost(_ arguments: [String]) throws -> (MatrixColumn, RetractResult?) {
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/thplab-matrix-")
        defer { _ = try? Sys.unlink(dir + "/host.json"); _ = try? Sys.rmdir(dir) }
        let status = try Sys.runQuietly(Sys.ownExecutable(), arguments + ["--json", dir + "/host.json"])
        var r: RetractResult?
        if let bytes = try? FileIO.readBytes(dir + "/host.json", limit: 1 << 28),
           case .retract(let result)? = try? ResultFile.decode(bytes, source: "the host's result") { r = result }
        let code: Int32
        switch status {
        case .exited(let c)?: code = c
        case .signaled(let sig)?: code = 128 + sig
        case nil: code = 1
        }
        return (MatrixColumn(label: "host", kernelRelease: Sys.uname().release, how: "host", exitCode: code, ok: r?.ok ?? false), r)
    }

    /// Decodes a guest's result as a retract result.
    public static func retractResult(_ v: JSONValue?) -> RetractResult? {
        guard let v, let data = try? JSONEncoder().encode(v),
              case .retract(let r)? = try? ResultFile.decode(Array(data), source: "the guest's result") else { return nil }
        return r
    }
}
