/// `sweep benefit`, one run: what the collapse cost in memory (the zeros it
/// made resident, by `run bloat`'s accounting) beside what it bought: a
/// dependent random chase over the touched pages only, timed on small pages
/// before the collapse and again after it.
public struct AccessTradeoff: Codable, Equatable, Sendable {
    /// Pages of 512 written in each extent: the working set the chase walks.
    public var touched: Int
    public var extents: Int
    public var collapsed: Int
    /// Measurements before and after, each at least a quarter second.
    public var rounds: Int
    /// Memory the collapse made resident, in kB: the whole region, and per extent.
    public var addedKB: Int
    /// Nanoseconds per dependent load over the touched pages, before and after.
    public var before: AccessFigure?
    public var after: AccessFigure?
    /// before's median over after's: above 1, the collapse made the chase faster.
    public var speedup: Double?
    /// Whether the rounds' ranges before and after are apart; nil with one round.
    public var measurable: Bool?
    /// Why there is no timing (software emulation), when there is none.
    public var noTiming: String?
    /// The same chase over anonymous memory kept on small pages, timed in
    /// turn with the region before and after: the machine's own change.
    public var controlBefore: AccessFigure?
    public var controlAfter: AccessFigure?
    /// The control's before over its after (1: the machine did not change),
    /// and the speedup net of it.
    public var controlChange: Double?
    public var netSpeedup: Double?

    enum CodingKeys: String, CodingKey {
        case touched, extents, collapsed, rounds, addedKB = "added_kb", before, after, speedup, measurable, noTiming = "no_timing"
        case controlBefore = "control_before", controlAfter = "control_after", controlChange = "control_change", netSpeedup = "net_speedup"
    }

    public init(touched: Int, extents: Int, collapsed: Int, addedKB: Int, before: AccessFigure?, after: AccessFigure?, rounds: Int, noTiming: String?) {
        self.touched = touched
        self.extents = extents
        self.collapsed = collapsed
        self.rounds = rounds
        self.addedKB = addedKB
        self.before = before
        self.after = after
        self.noTiming = noTiming
        if let before, let after {
            speedup = after.speedup(over: before)
            measurable = rounds < 2 ? nil : !after.overlaps(before)
        }
    }

    /// Adds the control's figures, and the speedup net of its change.
    public mutating func control(before: AccessFigure?, after: AccessFigure?) {
        controlBefore = before
        controlAfter = after
        guard let before, let after, let speedup else { return }
        let change = after.speedup(over: before)
        controlChange = change
        // Nothing collapsed: nothing was bought, and the change is the machine's.
        netSpeedup = change > 0 && collapsed > 0 ? (speedup / change * 100).rounded() / 100 : nil
    }

    /// Whether the control moved by a tenth or more, measurably.
    public var machineChanged: Bool {
        guard let c = controlChange, let b = controlBefore, let a = controlAfter, rounds > 1 else { return false }
        return abs(c - 1) >= 0.1 && !a.overlaps(b)
    }

    public var addedPerExtentKB: Int { extents > 0 ? addedKB / extents : 0 }

    /// What the point buys and costs, in one line:
    /// "+1.6 MiB per extent, chase 1.5x faster".
    public var sentence: String {
        let head = "\(touched) of \(PageGeometry.pagesPerPmd) pages touched"
        if let noTiming {
            return head + (collapsed == 0 ? ", nothing collapsed: no memory added" : ", \(collapsed) of \(extents) extents collapsed: \(cost)")
                + ", no timing (\(noTiming))"
        }
        guard let speedup, let before, let after else { return head + ": no timing" }
        let figures = String(cFormat: "%.0f -> %.0f ns per access", before.medianNs, after.medianNs)
        guard collapsed > 0 else {
            let control = controlChange.map { String(cFormat: ", the small-page control %.2fx", $0) } ?? ""
            return head + String(cFormat: ", nothing collapsed: no memory added and nothing bought (the chase moved %.2fx\(control): this machine's noise)", speedup)
        }
        let gain: String
        switch measurable {
        case false?: gain = "chase time not measurably different (\(figures), the rounds overlap)"
        case nil: gain = String(cFormat: "chase %.2fx (\(figures); one round, noise unknown)", speedup)
        case true?: gain = speedup >= 1 ? String(cFormat: "chase %.2fx faster (\(figures))", speedup)
            : String(cFormat: "chase %.2fx slower (\(figures))", after.medianNs / before.medianNs)
        }
        var drift = ""
        if machineChanged, let c = controlChange, let net = netSpeedup {
            drift = String(cFormat: "; a small-page control changed %.2fx over the same time, so the machine moved too: net of it, %.2fx", c, net)
        }
        return head + ", \(collapsed) of \(extents) extents collapsed: \(cost), \(gain)\(drift)"
    }

    private var cost: String {
        addedKB == 0 ? "no memory added" : "+\(FolioSizes.kB(addedPerExtentKB)) per extent (\(FolioSizes.kB(addedKB)) in all)"
    }
}
