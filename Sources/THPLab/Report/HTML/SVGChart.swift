import Glibc

/// A line chart as inline SVG: labelled axes with units, ticks, one line
/// (with its points) per series, a legend. X is numeric when asked and
/// every x label is a number; otherwise the labels are spread evenly in
/// their order (a sweep's values: 255 and 256 must not overlap).
struct LineChart {
    struct Series {
        var name: String
        /// (x label, y); a nil y is a gap (no value at that x).
        var points: [(x: String, y: Double?)]
        /// A label drawn beside each point (a sweep point's knobs), when given.
        var labels: [String]? = nil
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var yMax: Double?
    /// Numeric x labels are placed to scale (log where they are all
    /// positive and span two decades or more); otherwise evenly, in order.
    var numericX = false

    /// One colour per series (the retract chart has up to 12).
    static let palette = ["#1565c0", "#c62828", "#2e7d32", "#ef8f00", "#6a1b9a", "#00838f", "#4e342e", "#ad1457",
                          "#827717", "#283593", "#d84315", "#37474f"]
    /// Dash patterns by series, so that lines drawn over each other still show.
    static let dashes = ["", "7 4", "2 3", "10 3 2 3"]

    enum XScale: Equatable { case category, linear, log }

    /// How labels are placed: to scale when every one is a number.
    static func xScale(_ labels: [String], numeric: Bool) -> XScale {
        let values = labels.compactMap(Double.init)
        guard numeric, !labels.isEmpty, values.count == labels.count else { return .category }
        if let lo = values.min(), let hi = values.max(), lo > 0, hi / lo >= 100 { return .log }
        return .linear
    }

    /// A marker's radius: the first series' is the largest, so that where
    /// series coincide each later (smaller) marker sits inside the earlier
    /// rings and every series stays visible (seven sizes at most, enough
    /// for the six mappings of a retract panel).
    static func markerRadius(series i: Int, of n: Int) -> Double { 3.0 + 1.2 * Double(min(max(0, n - 1 - i), 6)) }

    func svg(width: Double = 680, height: Double = 320) -> String {
        let left = 64.0, right = 170.0, top = 30.0, bottom = 52.0
        let pw = width - left - right, ph = height - top - bottom
        let labels = series.flatMap { $0.points.map(\.x) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let scale = Self.xScale(labels, numeric: numericX)
        func scaled(_ label: String) -> Double {
            switch scale {
            case .category: return Double(labels.firstIndex(of: label)!)
            case .linear: return Double(label)!
            case .log: return log10(Double(label)!)
            }
        }
        let xs = labels.map(scaled)
        let xMin = xs.min() ?? 0, xMax = xs.max() ?? 1
        func xPos(_ label: String) -> Double {
            left + (xMax == xMin ? pw / 2 : (scaled(label) - xMin) / (xMax - xMin) * pw)
        }
        let ys = series.flatMap { $0.points.compactMap(\.y) }
        let top0 = yMax ?? Self.niceCeiling(ys.max() ?? 1)
        func yPos(_ v: Double) -> Double { top + ph - (top0 == 0 ? 0 : v / top0 * ph) }
        let count = ys.count
        var s = "<svg class=\"chart\" data-points=\"\(count)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
        s += "<text x=\"\(left)\" y=\"18\" style=\"font-weight:600\">\(HTML.escape(title))</text>"
        // Axes, ticks and grid.
        s += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top + ph)\" x2=\"\(left + pw)\" y2=\"\(top + ph)\" stroke=\"#333\"/>"
        s += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + ph)\" stroke=\"#333\"/>"
        for i in 0...4 {
            let v = top0 * Double(i) / 4
            let y = yPos(v)
            s += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + pw)\" y2=\"\(y)\" stroke=\"#e5e5e5\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Self.format(v))</text>"
        }
        // Tick labels left to right, each one drawn only if it clears the last.
        var shown: [String] = []
        for l in labels.sorted(by: { xPos($0) < xPos($1) }) where shown.last.map({ xPos(l) - xPos($0) >= 28 }) ?? true { shown.append(l) }
        // A tick for every value; a label where it fits (the tooltips name them all).
        for l in labels where !shown.contains(l) {
            s += "<line class=\"tick\" x1=\"\(xPos(l))\" y1=\"\(top + ph)\" x2=\"\(xPos(l))\" y2=\"\(top + ph + 4)\" stroke=\"#999\"/>"
        }
        for l in shown {
            let x = xPos(l)
            s += "<line x1=\"\(x)\" y1=\"\(top + ph)\" x2=\"\(x)\" y2=\"\(top + ph + 4)\" stroke=\"#333\"/>"
            s += "<text x=\"\(x)\" y=\"\(top + ph + 17)\" text-anchor=\"middle\">\(HTML.escape(l))</text>"
        }
        s += "<text class=\"xlabel\" x=\"\(left + pw / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(HTML.escape(xLabel + (scale == .log ? ", log scale" : "")))</text>"
        s += "<text class=\"ylabel\" transform=\"translate(16 \(top + ph / 2)) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
        s += seriesMarkup(xPos: xPos, yPos: yPos, legendLeft: left + pw, top: top)
        if count == 0 {
            s += "<text x=\"\(left + pw / 2)\" y=\"\(top + ph / 2)\" text-anchor=\"middle\" class=\"empty\">no data</text>"
        }
        return s + "</svg>"
    }

    /// Series: a polyline per run of defined points, a dot per point, and
    /// each series' legend entry at `legendLeft`.
    private func seriesMarkup(xPos: (String) -> Double, yPos: (Double) -> Double, legendLeft: Double, top: Double) -> String {
        var s = ""
        for (i, ser) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let dash = Self.dashes[i % Self.dashes.count]
            let radius = Self.markerRadius(series: i, of: series.count)
            var run: [String] = []
            func flush() {
                if run.count > 1 {
                    s += "<polyline class=\"series\" data-series=\"\(i)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"" + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + " points=\"\(run.joined(separator: " "))\"/>"
                }
                run.removeAll()
            }
            for (k, p) in ser.points.enumerated() {
                guard let y = p.y else { flush(); continue }
                let pt = "\(Self.format(xPos(p.x))),\(Self.format(yPos(y)))"
                run.append(pt)
                s += "<circle class=\"point\" data-series=\"\(i)\" cx=\"\(Self.format(xPos(p.x)))\" cy=\"\(Self.format(yPos(y)))\" r=\"\(Self.format(radius))\" fill=\"\(color)\" stroke=\"#fff\" stroke-width=\"1\"><title>\(HTML.escape(ser.name)): \(HTML.escape(p.x)) → \(Self.format(y))</title></circle>"
                if let labels = ser.labels, k < labels.count {
                    s += "<text class=\"pointlabel\" x=\"\(Self.format(xPos(p.x) + radius + 3))\" y=\"\(Self.format(yPos(y) - radius - 2))\" style=\"fill:\(color)\">\(HTML.escape(labels[k]))</text>"
                }
            }
            flush()
            let ly = top + 14 + Double(i) * 18
            // The legend shows each series as drawn: its colour, dash and marker.
            s += "<line x1=\"\(legendLeft + 10)\" y1=\"\(ly - 3)\" x2=\"\(legendLeft + 30)\" y2=\"\(ly - 3)\" stroke=\"\(color)\" stroke-width=\"2\""
                + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + "/>"
            s += "<circle cx=\"\(legendLeft + 20)\" cy=\"\(ly - 3)\" r=\"3.5\" fill=\"\(color)\"/>"
            s += "<text class=\"legend\" x=\"\(legendLeft + 33)\" y=\"\(ly + 1)\">\(HTML.escape(ser.name))</text>"
        }
        return s
    }

    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 2.5, 5, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        return String(cFormat: abs(v) < 10 ? "%.2f" : "%.1f", v)
    }
}

/// The extent map: one strip per row (a VMA or a region), one cell per
/// 2 MiB extent coloured by its main class (cells wrap at 64), with each
/// extent's counts in its tooltip.
struct ExtentStrip {
    struct Row {
        var label: String
        var cells: [(title: String, pages: ClassCounts)]
    }

    var rows: [Row]
    static let perLine = 64, cell = 11.0, gap = 1.0

    /// The class with the most pages; `none` for an empty extent.
    static func main(_ p: ClassCounts) -> PageClass {
        PageClass.allCases.max { p[$0] < p[$1] } ?? .none
    }

    /// A cell's colour: its main class's, and for mTHP its main size's.
    static func color(_ p: ClassCounts) -> (String, Int?) {
        let main = main(p)
        guard main == .mthp, let size = p.mthpBySize.max(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key else {
            return (HTML.classColors[main]!, nil)
        }
        return (HTML.mthpColor(sizeKB: size), size)
    }

    func svg() -> String {
        let labelWidth = 310.0
        var y = 4.0
        var body = ""
        var total = 0
        var sizes = Set<Int>()
        for row in rows {
            let lines = max(1, (row.cells.count + Self.perLine - 1) / Self.perLine)
            body += "<text x=\"0\" y=\"\(y + 9)\">\(HTML.escape(String(row.label.prefix(44))))</text>"
            for (i, c) in row.cells.enumerated() {
                let x = labelWidth + Double(i % Self.perLine) * (Self.cell + Self.gap)
                let cy = y + Double(i / Self.perLine) * (Self.cell + Self.gap)
                let counts = PageClass.allCases.filter { c.pages[$0] > 0 }.map {
                    "\($0.label) \(c.pages[$0])" + ($0 == .mthp ? " (" + FolioSizes.describe(c.pages.mthpBySize) + ")" : "")
                }.joined(separator: ", ")
                let (fill, size) = Self.color(c.pages)
                if let size { sizes.insert(size) }
                body += "<rect class=\"extent\" x=\"\(x)\" y=\"\(cy)\" width=\"\(Self.cell)\" height=\"\(Self.cell)\" fill=\"\(fill)\" stroke=\"#bbb\" stroke-width=\"0.5\"><title>\(HTML.escape(c.title)): \(HTML.escape(counts.isEmpty ? "empty" : counts))</title></rect>"
                total += 1
            }
            y += Double(lines) * (Self.cell + Self.gap) + 6
        }
        let width = labelWidth + Double(Self.perLine) * (Self.cell + Self.gap)
        return "<svg class=\"extent-map\" data-extents=\"\(total)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(y + 4))\">\(body)</svg>"
            + HTML.classLegend() + HTML.mthpLegend(Array(sizes))
    }
}
