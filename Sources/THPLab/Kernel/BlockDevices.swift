import SystemPackage

/// The block-device files thplab reads and writes for swap: zram0 (its
/// sysfs directory, device node and module) and whether the device under a
/// path is rotational, which decides whether the kernel swaps a large folio
/// out whole.
public enum BlockDevices {
    public static let zramDevice = "/dev/zram0"
    static let zramSys = "/sys/block/zram0"
    static let zramModuleDir = "/sys/module/zram"
    static let modprobeCandidates = ["/sbin/modprobe", "/usr/sbin/modprobe"]

    /// Whether zram0 exists, and whether the zram module is loaded.
    static var zramExists: Bool { Sys.exists(zramSys) }
    static var zramLoaded: Bool { Sys.exists(zramModuleDir) }

    static var modprobe: String { modprobeCandidates.first(where: Sys.exists) ?? modprobeCandidates[0] }

    /// zram0's disksize as the kernel shows it ("0" while unused).
    static var zramDisksize: String? { FileIO.readIfPresent(zramSys + "/disksize")?.trimmingWhitespace() }

    static func setZramDisksize(_ bytes: Int) -> Result<Void, Errno> {
        FileIO.writeExisting(zramSys + "/disksize", "\(bytes)")
    }

    /// Whether the device holding `path` (or the device `path` is) is
    /// rotational: queue/rotational of the block device, or of its parent
    /// for a partition; nil when unknown.
    public static func rotational(_ path: String) -> Bool? {
        guard let (major, minor) = Sys.deviceNumbers(path) else { return nil }
        let base = "/sys/dev/block/\(major):\(minor)"
        for q in [base + "/queue/rotational", base + "/../queue/rotational"] {
            if let v = FileIO.readIfPresent(q)?.trimmingWhitespace() { return v == "1" }
        }
        return nil
    }
}
