import THPLab

/// The common forms of `thplab snapshot`, read without the argument parser.
///
/// swift-argument-parser learns every command's options by reflection the
/// first time it runs: runtime type lookups and protocol-conformance scans
/// that cost about 2 ms of each process's start (a snapshot of a sleeping
/// process: 8.7 ms with the parser, 6.8 ms without, medians of 41 rounds).
/// `snapshot` is the command scripts run in loops and the one held to the
/// C floor, so its plain forms are read here, word by word, against a
/// table of exact option names.
///
/// Anything else gives nil and goes to the full parser, which reads it or
/// says what is wrong: another option or a positional word, `--help`, a
/// value that is missing, malformed or refused by a command's `validate()`,
/// an option given twice. A test reads every form both ways and requires
/// the same request, so a new option or a changed default cannot make the
/// two disagree without failing it.
enum QuickSnapshotArguments {
    /// The request for `arguments` (the words after the program's name),
    /// or nil to leave them to the full parser.
    static func parse(_ arguments: [String]) -> SnapshotRequest? {
        guard arguments.first == Snapshot.configuration.commandName else { return nil }
        var words = Words(arguments.dropFirst())
        while let word = words.next() {
            guard words.take(word) else { return nil }
        }
        return words.request
    }

    /// The words read so far, and what they asked for.
    struct Words {
        var rest: ArraySlice<String>
        // Arrays, not sets: a Set of a new element type costs the runtime a
        // scan of every protocol conformance at its first use (measured:
        // more than the rest of this reading).
        var seen: [String] = []
        var pids: [Int32] = []
        var flags: [String] = []
        var numa: Bool?
        var top = SnapshotTextReport.Options().top
        var json: String?

        init(_ words: ArraySlice<String>) { rest = words }

        static let flagNames = ["all", "self", "system", "pages", "extents", "all-vmas", "small", "vmas", "objects"]

        /// The next word, split at `=` into a name and its value.
        mutating func next() -> (name: String, value: String?)? {
            guard let word = rest.popFirst() else { return nil }
            // A positional word, a short option or `--`: no name of the table.
            guard word.hasPrefix("--"), word.count > 2 else { return ("", nil) }
            let body = word.dropFirst(2)
            guard let eq = body.firstIndex(of: "=") else { return (String(body), nil) }
            return (String(body[..<eq]), String(body[body.index(after: eq)...]))
        }

        /// A value for an option: the `=` part, else the next word unless
        /// it looks like an option (the parser would refuse it).
        mutating func value(_ inline: String?) -> String? {
            if let inline { return inline }
            guard let v = rest.first, v == "-" || !v.hasPrefix("-") else { return nil }
            return rest.popFirst()
        }

        /// Reads one option; false when the full parser must see the words.
        mutating func take(_ word: (name: String, value: String?)) -> Bool {
            let name = word.name
            // Only `--pid` repeats; a second of any other is the parser's to judge.
            let key = name == "no-numa" ? "numa" : name
            guard name == "pid" || !seen.contains(key) else { return false }
            seen.append(key)
            switch name {
            case _ where Self.flagNames.contains(name) && word.value == nil:
                flags.append(name)
            case "numa", "no-numa":
                guard word.value == nil else { return false }
                numa = name == "numa"
            case "pid":
                guard let v = value(word.value), let pid = Int32(v), pid > 0 else { return false }
                pids.append(pid)
            case "top":
                guard let v = value(word.value), let n = Int(v), n >= 0 else { return false }
                top = n
            case "json":
                guard let v = value(word.value), (try? JSONOutput.checkWritable(v)) != nil else { return false }
                json = v
            default:
                return false
            }
            return true
        }

        /// What was asked for, as the parsed command would have it.
        var request: SnapshotRequest {
            var targets = pids.map(ProcessTarget.pid) + (flags.contains("all") ? [.all] : [])
            if flags.contains("self") { targets.append(.pid(ThisProcess.pid)) }
            let pages = flags.contains("pages")
            return SnapshotRequest(targets: targets, system: flags.contains("system") || targets.isEmpty, pages: pages,
                                   numa: numa, objects: flags.contains("objects"),
                                   view: .init(allVMAs: flags.contains("all-vmas"), extents: flags.contains("extents") || pages,
                                               top: top, small: flags.contains("small"), vmas: flags.contains("vmas")),
                                   output: OutputRequest(json: json))
        }
    }
}
