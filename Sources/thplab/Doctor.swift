import ArgumentParser
import THPLab

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "What this host supports and which experiments can run here.",
        discussion: "Probes rather than guesses: MADV_COLLAPSE and MADV_POPULATE are tried on a small memfd and anonymous mapping (2 MiB, freed at once). Changes no knob. Works without root, saying what root would add."
    )

    @OptionGroup var output: OutputOptions

    func run() throws {
        let report = DoctorProbe.run()
        try output.emit(report) { DoctorTextReport.render(report) }
    }
}
