/// Knob values as a table.
public enum KnobsTextReport {
    /// - Parameter changed: knobs thplab changed, with their originals.
    public static func render(_ knobs: [String: SysfsValue], changed: [HostJournal.Knob] = []) -> String {
        var t = TextTable(header: ["KNOB", "VALUE", "CHOICES / RANGE", "KERNEL DEFAULT", "CHANGED BY THPLAB"])
        for name in knobs.keys.sorted(by: knobOrder) {
            let v = knobs[name]!
            let rule = THPSysfs.rule(for: name)
            let choices = v.options.isEmpty ? rule?.range.map { "\($0.lowerBound)..\($0.upperBound)" } ?? "" : v.options.joined(separator: " ")
            let was = changed.first { $0.name == name }.map { "yes, was \($0.original)" } ?? ""
            t.add([name, v.current, choices, rule?.kernelDefault ?? "", was])
        }
        return t.render()
    }

    static func knobOrder(_ a: String, _ b: String) -> Bool {
        let ka = (a.contains("/") ? (a.hasPrefix("khugepaged") ? 1 : 2) : 0, sizeKB(a), a)
        let kb = (b.contains("/") ? (b.hasPrefix("khugepaged") ? 1 : 2) : 0, sizeKB(b), b)
        return ka < kb
    }

    static func sizeKB(_ name: String) -> Int {
        guard name.hasPrefix("hugepages-"), let k = name.dropFirst(10).split(separator: "k").first else { return 0 }
        return Int(k) ?? 0
    }
}
