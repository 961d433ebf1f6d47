import ArgumentParser
import THPLab

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What this host supports and which experiments can run here.",
        discussion: "Probes rather than guesses: MADV_COLLAPSE and MADV_POPULATE are tried on a small memfd and anonymous mapping (2 MiB, freed at once). Changes no knob. Works without root, saying what root would add."
    )

    @Option(help: "Write the findings as JSON to this path ('-' for stdout).")
    var json: String?

    func validate() throws {
        if let json { try JSONOutput.checkWritable(json) }
    }

    func run() throws {
        let report = DoctorProbe.run()
        if json != "-" { print(DoctorTextReport.render(report)) }
        if let json { try JSONOutput.write(report, to: json) }
    }
}
