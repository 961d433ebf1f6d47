import ArgumentParser
import THPLab

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two snapshots: what became PMD-mapped, what stopped being, the coverage change.",
        discussion: "Processes are matched by pid; VMAs by backing (device, inode, offset, name) and address range. Both files come from `thplab snapshot --json`."
    )

    @Argument(help: "The earlier snapshot (JSON).")
    var before: String

    @Argument(help: "The later snapshot (JSON).")
    var after: String

    @Flag(help: "Show unchanged VMAs too.")
    var all = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        let d = SnapshotDiff.diff(before: try SnapshotDiff.load(before), after: try SnapshotDiff.load(after))
        try output.emit(d) { DiffTextReport.render(d, all: all) }
    }
}
