import Foundation

#if THPLAB_FUZZ
/// libFuzzer's entry (built by scripts/fuzz with -sanitize=fuzzer,address):
/// the target is THPLAB_FUZZ_TARGET's.
let target: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["THPLAB_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTargets.named(name) else {
        FileHandle.standardError.write(Data("THPLAB_FUZZ_TARGET must be one of: \(FuzzTargets.names.joined(separator: " "))\n".utf8))
        exit(2)
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`: here that
/// hands the command line to libFuzzer's driver.
@_cdecl("thplab_fuzz_main")
/// `--list` (not a libFuzzer flag) prints the targets, for scripts/fuzz.
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if argc == 2, let arg = argv?[1], String(cString: arg) == "--list" {
        print(FuzzTargets.names.joined(separator: "\n"))
        return 0
    }
    var count = argc
    var vector = argv
    return runDriver(&count, &vector, fuzzOne)
}
#else
/// Without the fuzzer: runs the files given through a target once each, so
/// that a crash input found by scripts/fuzz can be replayed by hand.
///   thplab-fuzz TARGET FILE...    (thplab-fuzz --list: the targets)
@main struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "--list" { print(FuzzTargets.names.joined(separator: "\n")); return }
        guard let name = args.first, let t = FuzzTargets.named(name) else {
            FileHandle.standardError.write(Data("usage: thplab-fuzz TARGET FILE... (targets: \(FuzzTargets.names.joined(separator: " ")))\n".utf8))
            exit(2)
        }
        for file in args.dropFirst() {
            guard let d = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("thplab-fuzz: cannot read \(file)\n".utf8)); exit(2)
            }
            t(Array(d))
        }
        print("\(name): \(args.count - 1) input(s), no crash")
    }
}
#endif
