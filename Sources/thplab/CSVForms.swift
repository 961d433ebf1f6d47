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
extension BloatScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension SharedScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension LatencyScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension SwapScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension NumaScenario: NoCSVForm { var outputOptions: OutputOptions { region.output } }
extension Diff: NoCSVForm { var outputOptions: OutputOptions { output } }
extension Collapse: NoCSVForm { var outputOptions: OutputOptions { output } }
extension Explain: NoCSVForm { var outputOptions: OutputOptions { output } }
extension Doctor: NoCSVForm { var outputOptions: OutputOptions { output } }
extension VMCommand: NoCSVForm { var outputOptions: OutputOptions { output } }
extension MatrixCommand: NoCSVForm { var outputOptions: OutputOptions { output } }
extension BatteryCommand: NoCSVForm { var outputOptions: OutputOptions { output } }
extension Knobs.Show: NoCSVForm { var outputOptions: OutputOptions { output } }

/// A command that cannot run without root: `THPLabCommand.main` checks it
/// through `HostChecks` once the arguments are parsed, before `run()`, so
/// that the answer is exit code 3 with the reason (a validate() error would
/// be a usage error, exit 2).
protocol NeedsRoot {
    var rootReason: String { get }
}

extension Collapse: NeedsRoot {
    var rootReason: String { "collapse needs root: process_madvise needs ptrace access and CAP_SYS_NICE" }
}
extension BatteryCommand: NeedsRoot {
    var rootReason: String { "battery needs root: its runs change khugepaged's knobs and read pagemap/kpageflags" }
}
extension VMCommand: NeedsRoot {
    var rootReason: String { "vm needs root (the guest runs thplab as root)" }
}
extension MatrixCommand: NeedsRoot {
    var rootReason: String { "matrix needs root" }
}
extension Knobs.Restore: NeedsRoot {
    var rootReason: String { "knobs restore needs root" }
}
