import Foundation
import PackagePlugin

/// Writes the git commit the executable is built from into a Swift source
/// (`BuildCommit.value`), before every build, so that `thplab --version`
/// names it. The file is rewritten only when the commit changes, so an
/// unchanged tree does not recompile. Outside a git checkout: "unknown".
@main
struct BuildCommitPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let dir = context.pluginWorkDirectoryURL.appending(path: "generated")
        let file = dir.appending(path: "BuildCommit.swift")
        let script = """
            mkdir -p "$2"
            c=$(git -c safe.directory='*' -C "$1" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
            if [ "$c" != unknown ] && [ -n "$(git -c safe.directory='*' -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then c="$c-dirty"; fi
            new="enum BuildCommit { static let value = \\"$c\\" }"
            [ "$(cat "$3" 2>/dev/null)" = "$new" ] || printf '%s\\n' "$new" > "$3"
            """
        return [.prebuildCommand(displayName: "thplab: the commit for --version", executable: URL(filePath: "/bin/sh"),
                                 arguments: ["-c", script, "sh", context.package.directoryURL.path, dir.path, file.path],
                                 outputFilesDirectory: dir)]
    }
}
