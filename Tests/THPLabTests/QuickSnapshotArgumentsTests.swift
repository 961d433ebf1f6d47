import Testing
@testable import THPLab
@testable import thplab

/// `snapshot`'s quick reading of its common forms against the argument
/// parser's: the same request for every form it takes, and nil (the full
/// parser) for every other.
@Suite struct QuickSnapshotArgumentsTests {
    static let taken: [[String]] = [
        [], ["--pid", "1"], ["--pid=1"], ["--pid", "+7"], ["--pid", "1", "--pid", "2"], ["--all"], ["--self"], ["--system"],
        ["--pages"], ["--extents"], ["--all-vmas"], ["--small"], ["--vmas"], ["--objects"], ["--numa"], ["--no-numa"],
        ["--top", "0"], ["--top=5"], ["--json", "/tmp/thplab-quick.json"], ["--json=-"], ["--json", "-"],
        ["--pid", "3", "--self", "--all"], ["--self", "--pid", "3"],
        ["--all", "--objects", "--vmas", "--top", "3", "--no-numa", "--json", "/tmp/q.json"],
        ["--pid", "42", "--pages", "--small", "--all-vmas", "--system", "--numa", "--extents"],
    ]

    @Test(arguments: taken)
    func readsAFormAsTheParserReadsIt(_ words: [String]) throws {
        let quick = try #require(QuickSnapshotArguments.parse(["snapshot"] + words))
        #expect(quick == SnapshotRequest(try Snapshot.parse(words)))
    }

    /// Help, the options it does not read, values the parser or a
    /// `validate()` refuses, an option given twice, positional words.
    static let left: [[String]] = [
        ["--help"], ["-h"], ["--comm", "postgres"], ["--cgroup", "/sys/fs/cgroup/memory/x"], ["--csv", "-"], ["--html", "/tmp/x.html"],
        ["--format", "json"], ["--pid"], ["--pid", "0"], ["--pid", "-1"], ["--pid", "x"], ["--pid", "99999999999"], ["--top", "-1"],
        ["--top"], ["--top", "x"], ["--system", "--system"], ["--numa", "--no-numa"], ["--top", "1", "--top", "2"],
        ["--json", "/nonexistent-dir/x.json"], ["--json", "/tmp"], ["--json="], ["--json", "--pid"], ["pid", "5"], ["--"], ["--pid", "1", "extra"],
        ["--system=yes"], ["--no-system"], ["-pid", "1"], ["--PID", "1"],
    ]

    @Test(arguments: left)
    func leavesEveryOtherFormToTheParser(_ words: [String]) {
        #expect(QuickSnapshotArguments.parse(["snapshot"] + words) == nil)
    }

    @Test(arguments: [[String](), ["--version"], ["--help"], ["explain", "--pid", "1"], ["watch", "--pid", "1"], ["snapshots", "--pid", "1"]])
    func leavesOtherCommandsToTheParser(_ arguments: [String]) {
        #expect(QuickSnapshotArguments.parse(arguments) == nil)
    }
}
