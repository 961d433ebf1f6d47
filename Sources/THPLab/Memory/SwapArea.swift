import SystemPackage

/// Swap for the `swap` scenario: the host's own if it has any, else a swap
/// file thplab makes for the run (journaled: a killed run's swap file is
/// swapped off and removed by the next start).
public final class SwapArea {
    public let path: String
    /// Whether thplab made it (and so takes it away).
    public let ownedByThplab: Bool
    private let guardian: HostGuard

    /// Active swap areas from /proc/swaps.
    public static func active() -> [String] { ProcFS.host.activeSwaps() }

    public init(guardian: HostGuard, size: Int = 256 << 20, directory: String = "/var/tmp") throws {
        self.guardian = guardian
        if let existing = Self.active().first {
            path = existing
            ownedByThplab = false
            return
        }
        let file = "\(directory)/thplab-swap-\(Sys.pid)"
        path = file
        ownedByThplab = true
        let fd = try guardian.create(.file, file) {
            do {
                return try FileDescriptor.open(FilePath(file), .readWrite, options: [.create, .exclusiveCreate, .closeOnExec],
                                               permissions: [.ownerReadWrite])
            } catch let e as Errno { throw THPLabError.system("cannot create the swap file \(file)", e) }
        }
        defer { try? fd.close() }
        do {
            try Sys.result { try Sys.fallocate(fd, size: Int64(size)) }.mapError { THPLabError.system("cannot allocate \(size >> 20) MiB for \(file)", $0) }.get()
            _ = try fd.writeAll(toAbsoluteOffset: 0, Self.header(size: size))
            try guardian.create(.swap, file) {
                if case .failure(let e) = Sys.result({ try Sys.swapon(file) }) {
                    throw THPLabError(.unsupported, "swapon \(file) failed: this host cannot give the swap scenario swap", errno: e)
                }
            }
        } catch {
            guardian.undo(.file, file)
            throw error
        }
    }

    /// The first page of a version-1 swap area, as mkswap writes it:
    /// `version` 1 and `last_page` at byte 1024, "SWAPSPACE2" at the end.
    static func header(size: Int) -> [UInt8] {
        let page = 4096
        var bytes = [UInt8](repeating: 0, count: page)
        func put32(_ v: UInt32, at o: Int) { for i in 0..<4 { bytes[o + i] = UInt8((v >> (8 * UInt32(i))) & 0xff) } }
        put32(1, at: 1024)                                // version
        put32(UInt32(size / page - 1), at: 1028)          // last_page
        for (i, c) in "SWAPSPACE2".utf8.enumerated() { bytes[page - 10 + i] = c }
        return bytes
    }

    /// Swaps off and removes what thplab made.
    public func remove() {
        guard ownedByThplab else { return }
        guardian.undo(.swap, path)
        guardian.undo(.file, path)
    }

    deinit { remove() }
}
