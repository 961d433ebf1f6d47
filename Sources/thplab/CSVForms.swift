import ArgumentParser
import THPLab

/// Commands whose result has no CSV form: `--csv` and `--format csv` are
/// refused before anything runs. (sweep, snapshot and watch have one.)
protocol NoCSVForm {
    var outputOptions: OutputOptions { get }
}

extension OutputOptions {
    func refuseCSV(_ command: String) throws {
        if csv != nil || format == .csv {
            throw THPLabError.usage("a \(command) result has no CSV form: CSV is for sweep, snapshot and watch (use --json or --html)")
        }
    }
}

extension Retract: NoCSVForm { var outputOptions: OutputOptions { output } }
extension CollapseScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension SparseScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension LatencyScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension SwapScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension NumaScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension Diff: NoCSVForm { var outputOptions: OutputOptions { output } }
extension Collapse: NoCSVForm { var outputOptions: OutputOptions { output } }
extension Explain: NoCSVForm { var outputOptions: OutputOptions { output } }
extension Doctor: NoCSVForm { var outputOptions: OutputOptions { output } }
extension VMCommand: NoCSVForm { var outputOptions: OutputOptions { output } }
extension MatrixCommand: NoCSVForm { var outputOptions: OutputOptions { output } }
extension Knobs.Show: NoCSVForm { var outputOptions: OutputOptions { output } }
