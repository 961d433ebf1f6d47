import ArgumentParser
import THPLab

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// `--json`, `--html`, `--csv` and `--format`, shared by every command that
/// produces a result. Paths are checked before anything runs; stdout
/// carries the table unless `--format` or a `-` path gives it to JSON or
/// CSV. Files are written after the screen output, so a file that cannot be
/// written loses nothing that was printed.
struct OutputOptions: ParsableArguments {
    @Option(help: "Also write the result as JSON to this path ('-' for stdout, which then carries only the JSON). Schema: docs/json-schema.md.")
    var json: String?

    @Option(help: "Also write a self-contained HTML report (inline SVG charts, no script) to this path; `thplab report` makes one from saved results.")
    var html: String?

    @Option(help: "Also write CSV to this path ('-' for stdout): sweep points, watch samples or snapshot VMAs.")
    var csv: String?

    @Option(help: "What stdout carries: table (default), json or csv.")
    var format: OutputFormat = .table

    func validate() throws {
        for (flag, path) in [("--json", json), ("--html", html), ("--csv", csv)] {
            if let path { try JSONOutput.checkWritable(path, option: flag) }
        }
        let dashes = [json, html, csv].filter { $0 == "-" }.count + (format == .table ? 0 : 1)
        if dashes > 1 { throw ValidationError("only one of --format json|csv, --json -, --html - and --csv - can take stdout") }
    }

    /// The same as plain values.
    var request: OutputRequest { OutputRequest(json: json, html: html, csv: csv, format: format) }

    /// Whether stdout carries something other than the table.
    var toStdout: Bool { request.toStdout }

    /// The table on screen unless stdout is taken, then every file asked
    /// for; the views take the typed result.
    func emit<T: ThplabResult>(_ value: T, text: () -> String) throws {
        try request.emit(value, text: text)
    }

    /// An experiment from the command line: its progress on one line, its
    /// result printed and written as asked, exit 1 when the kernel did
    /// something else than expected.
    func runExperiment<T: ThplabResult & GuardedResult>(_ body: (@escaping (ExperimentProgress) -> Void) throws -> T,
                                                        text: (T) -> String) throws {
        let progress = ProgressLine(output: self)
        let r = try body(progress.show)
        progress.clear()
        try emit(r) { text(r) }
        if !r.ok { throw ExitCode(1) }
    }
}

/// Where a result goes: `--json`, `--html`, `--csv` and `--format` as
/// plain values.
struct OutputRequest: Equatable {
    var json: String?
    var html: String?
    var csv: String?
    var format: OutputFormat = .table

    /// Whether stdout carries something other than the table.
    var toStdout: Bool { format != .table || json == "-" || html == "-" || csv == "-" }

    /// The table on screen unless stdout is taken, then every file asked
    /// for; the views take the typed result.
    func emit<T: ThplabResult>(_ value: T, text: () -> String) throws {
        if !toStdout { print(text()) }
        // JSON only when asked for: encoding a large snapshot costs time and memory.
        if format == .json { try Self.write(bytes: try ResultEnvelope.encode(value), to: "-") }
        if format == .csv { try Self.write(CSVReport.render(value.view), to: "-") }
        if let path = self.json { try Self.write(bytes: try ResultEnvelope.encode(value), to: path) }
        if let csv { try Self.write(CSVReport.render(value.view), to: csv) }
        if let html { try Self.write(HTMLReport.render([(source: "this run", result: value.view)]), to: html) }
    }

    static func write(_ text: String, to path: String) throws {
        try write(bytes: Array(text.utf8), to: path)
    }

    /// To a file (written atomically), or to stdout for `-`.
    static func write(bytes: [UInt8], to path: String) throws {
        if path == "-" {
            FileIO.writeStandard(bytes)
        } else {
            try JSONOutput.write(bytes: bytes, to: path)
        }
    }
}
