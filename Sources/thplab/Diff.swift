import ArgumentParser
import THPLab

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two snapshots (what became PMD-mapped), or two battery fingerprints (what a kernel changed).",
        discussion: """
            Snapshots (`thplab snapshot --json`): processes are matched by pid; VMAs by backing (device, inode, offset, name) \
            and address range.
            Fingerprints (`thplab battery --json`): rows are matched by entry and subject (mapping, extents, capability); \
            each row whose outcome changed is listed with the rule on each side, and marked when the model expected \
            neither side's outcome.
            """
    )

    @Argument(help: "The earlier snapshot or fingerprint (JSON).")
    var before: String

    @Argument(help: "The later one, of the same kind.")
    var after: String

    @Flag(help: "Show unchanged VMAs too.")
    var all = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        if case .battery(let a) = try ResultFile.read(before) {
            let b = try ResultFile.read(after, as: BatteryResult.self)
            let d = BehaviourDiff.diff(before: a, after: b)
            try output.emit(d) { BehaviourDiffTextReport.render(d) }
            return
        }
        let d = SnapshotDiff.diff(before: try SnapshotDiff.load(before), after: try SnapshotDiff.load(after))
        try output.emit(d) { DiffTextReport.render(d, all: all) }
    }
}
