import ArgumentParser
import THPLab

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Turn saved results into one self-contained HTML page (and CSV).",
        discussion: """
            Reads any JSON result thplab writes (run, sweep, watch, snapshot, diff, matrix, and the others as \
            their JSON) and writes one HTML file with inline SVG charts and CSS, no script and nothing \
            fetched: it opens offline. A retract run is a table of coloured states with the kernel's reasons \
            and each extent's events; a run is an extent map; a sweep is a curve of outcome and latency \
            against the knob, one line per value of a second knob; a watch is a timeline; a diff is \
            before/after per VMA; a matrix is one column per kernel with disagreements marked.
            Examples: thplab report sweep.json --html sweep.html
                      thplab report before.json after.json diff.json --html coverage.html
            """
    )

    @Argument(help: "Result files written with --json.")
    var files: [String]

    @Option(help: "Write the HTML report to this path ('-' for stdout).")
    var html: String?

    @Option(help: "Write CSV to this path ('-' for stdout); needs exactly one sweep, watch, snapshot or mthp file, or a run, retract or --system diff with per-size counters.")
    var csv: String?

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one result file") }
        guard html != nil || csv != nil else { throw ValidationError("give --html PATH (or --csv PATH): where the report goes") }
        if html == "-" && csv == "-" { throw ValidationError("only one of --html and --csv can go to stdout") }
        if let html { try JSONOutput.checkWritable(html, option: "--html") }
        if let csv { try JSONOutput.checkWritable(csv, option: "--csv") }
    }

    func run() throws {
        let results = try files.map { (source: $0, result: try ResultFile.read($0)) }
        if let csv {
            guard results.count == 1 else { throw THPLabError.usage("--csv takes exactly one result file (got \(results.count))") }
            try OutputRequest.write(CSVReport.render(results[0].result), to: csv)
        }
        if let html {
            try OutputRequest.write(HTMLReport.render(results), to: html)
            if html != "-" { Console.error("thplab: wrote \(html) (\(results.count) result(s))") }
        }
    }
}
