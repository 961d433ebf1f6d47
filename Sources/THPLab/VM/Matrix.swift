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

    /// Decodes a guest's result as a retract result.
    public static func retractResult(_ v: JSONValue?) -> RetractResult? {
        guard let v, let data = try? JSONEncoder().encode(v) else { return nil }
        return try? JSONDecoder().decode(RetractResult.self, from: data)
    }
}
