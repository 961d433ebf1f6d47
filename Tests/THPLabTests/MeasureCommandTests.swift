import Foundation
import Testing
@testable import THPLab

/// `collapse --measure`'s command line: words and quotes, no shell.
@Suite struct MeasureCommandTests {
    @Test func wordsAndQuotesAreSplitAsAShellWouldButNothingElse() throws {
        #expect(try MeasureCommand.split("pgbench -S -T 10 'my db'") == ["pgbench", "-S", "-T", "10", "my db"])
        #expect(try MeasureCommand.split("sh -c \"echo a; echo b\"") == ["sh", "-c", "echo a; echo b"])
        #expect(try MeasureCommand.split("a '' b") == ["a", "", "b"])
        #expect(try MeasureCommand.split("echo $HOME > x") == ["echo", "$HOME", ">", "x"], "no expansion, no redirection")
        #expect { try MeasureCommand.split("echo 'open") } throws: { "\($0)".contains("not closed") }
        #expect { try MeasureCommand("   ") } throws: { "\($0)".contains("takes a command") }
        #expect { try MeasureCommand("nope-not-here", path: "/nonexistent") } throws: { "\($0)".contains("no command nope-not-here") }
    }

    /// pgbench's last lines (PostgreSQL 15): the figure is the last line with a digit.
    @Test func theFigureIsTheLastLineWithANumber() {
        let pgbench = """
            number of failed transactions: 0 (0.000%)
            latency average = 0.412 ms
            initial connection time = 3.077 ms
            tps = 2424.242101 (without initial connection time)

            """
        #expect(MeasureCommand.lastFigureLine(pgbench) == "tps = 2424.242101 (without initial connection time)")
        #expect(MeasureCommand.lastFigureLine("done\n") == nil)
    }
}
