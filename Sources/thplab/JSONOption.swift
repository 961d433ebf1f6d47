import ArgumentParser
import THPLab

/// `--json PATH`, shared by every command that produces results: the path is
/// checked before anything runs, the table goes to stdout unless the JSON does.
struct JSONOption: ParsableArguments {
    @Option(help: "Also write the result as JSON to this path ('-' for stdout, which then carries only the JSON). Schema: docs/json-schema.md.")
    var json: String?

    func validate() throws {
        if let json { try JSONOutput.checkWritable(json) }
    }

    /// Whether stdout carries the JSON (so nothing else may go there).
    var toStdout: Bool { json == "-" }

    /// Prints the text (unless stdout carries JSON), then writes the JSON:
    /// if the file cannot be written, the result is still on the screen.
    func emit<T: Encodable>(_ value: T, text: () -> String) throws {
        if !toStdout { print(text()) }
        if let json { try JSONOutput.write(value, to: json) }
    }
}
