/// What `thplab --version` prints: the release and the commit it was built
/// from (written by the BuildCommit plugin at build time).
enum Version {
    static let release = "0.17.0"
    static var commit: String { BuildCommit.value }
    static var line: String { "thplab \(release) (commit \(commit))" }
}
