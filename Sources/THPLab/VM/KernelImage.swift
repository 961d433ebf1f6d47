/// A kernel to boot in a virtual machine: a bzImage path, or a release
/// installed under /boot (`6.1.0-56-amd64` -> /boot/vmlinuz-6.1.0-56-amd64).
public struct KernelImage: Codable, Equatable, Sendable {
    public var path: String
    /// The release, from the file name when it has one.
    public var release: String?

    public static func resolve(_ spec: String, boot: String = "/boot") throws -> KernelImage {
        let path: String
        if spec.contains("/") {
            guard Sys.exists(spec) else { throw THPLabError.usage("no kernel image at \(spec)") }
            path = spec
        } else {
            let candidate = "\(boot)/vmlinuz-\(spec)"
            guard Sys.exists(candidate) else {
                let installed = installed(boot: boot)
                throw THPLabError.usage("kernel \(spec) is not installed (no \(candidate)); installed: \(installed.isEmpty ? "none" : installed.joined(separator: ", ")). scripts/install-vm-tools installs Debian's 6.1 and 6.12; a kernel you built can be given by the path of its bzImage")
            }
            path = candidate
        }
        guard Sys.isRegularFile(path), isBzImage(path) else {
            throw THPLabError.usage("\(path) is not a kernel image (no bzImage header)")
        }
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        return KernelImage(path: path, release: name.hasPrefix("vmlinuz-") ? String(name.dropFirst(8)) : nil)
    }

    /// Releases with a /boot/vmlinuz-RELEASE.
    public static func installed(boot: String = "/boot") -> [String] {
        ((try? Sys.listDirectory(boot)) ?? []).filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst(8)) }.sorted()
    }

    /// The x86 boot protocol's "HdrS" signature at offset 0x202.
    static func isBzImage(_ path: String) -> Bool {
        guard let head = try? FileIO.readBytes(path, limit: 0x210), head.count >= 0x206 else { return false }
        return Array(head[0x202..<0x206]) == Array("HdrS".utf8)
    }
}
