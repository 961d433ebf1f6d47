import SystemPackage

/// Swap for the `swap` scenario: the host's own if it has any, else a swap
/// file thplab makes for the run, else (where the filesystem cannot hold
/// swap, as a virtme-ng guest's 9p root) a zram device. Each step is
/// journaled: a killed run's swap is swapped off, its file removed, its zram
/// device reset and a zram module thplab loaded unloaded by the next start.
public final class SwapArea {
    public let path: String
    /// Whether thplab made it (and so takes it away).
    public let ownedByThplab: Bool
    /// What it is, in words, for the run's notes.
    public let what: String
    private let guardian: HostGuard
    /// What to undo, in order of making.
    private var made: [(HostJournal.Resource.Kind, String)] = []

    /// Active swap areas from /proc/swaps.
    public static func active() -> [String] { ProcFS.host.activeSwaps() }

    /// - Parameter zram: use zram0 rather than a swap file when the host
    ///   has no swap (a non-rotational device, which large folios need to
    ///   be swapped out whole).
    public init(guardian: HostGuard, size: Int = 256 << 20, directory: String = "/var/tmp", zram: Bool = false) throws {
        self.guardian = guardian
        if let existing = Self.active().first {
            path = existing
            ownedByThplab = false
            what = "the host's swap \(existing)"
            return
        }
        ownedByThplab = true
        let file = "\(directory)/thplab-swap-\(Sys.pid)"
        do {
            if zram { throw THPLabError(.unsupported, "zram asked for") }
            try Self.makeFile(file, size: size, guardian: guardian)
            path = file
            what = "a swap file \(file)"
            made = [(.file, file), (.swap, file)]
        } catch let fileError as THPLabError where fileError.kind == .unsupported {
            var steps: [(HostJournal.Resource.Kind, String)] = []
            do {
                path = try Self.makeZram(size: size, guardian: guardian, made: &steps)
            } catch let zramError as THPLabError {
                for (kind, p) in steps.reversed() { guardian.undo(kind, p) }
                throw THPLabError(.unsupported, "\(fileError.message), and zram could not stand in: \(zramError.message)")
            }
            what = zram ? "zram (\(path), \(size >> 20) MiB)" : "zram (\(path), \(size >> 20) MiB), because \(directory) cannot hold a swap file"
            made = steps
        }
    }

    /// A swap file: allocated, given a swap header, swapped on.
    static func makeFile(_ file: String, size: Int, guardian: HostGuard) throws {
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
                    throw THPLabError(.unsupported, "swapon \(file) failed", errno: e)
                }
            }
        } catch {
            guardian.undo(.file, file)
            throw error
        }
    }

    /// zram0, unused (disksize 0), sized, given a swap header and swapped
    /// on; the module loaded first if the kernel has zram as a module.
    static func makeZram(size: Int, guardian: HostGuard, made: inout [(HostJournal.Resource.Kind, String)]) throws -> String {
        let dev = BlockDevices.zramDevice
        if !BlockDevices.zramExists {
            guard !BlockDevices.zramLoaded else { throw THPLabError(.unsupported, "zram is loaded but has no zram0") }
            try guardian.create(.module, "zram") {
                let status = try Sys.runQuietly(BlockDevices.modprobe, ["zram", "num_devices=1"], stderrPath: "/dev/null")
                guard case .exited(0)? = status, BlockDevices.zramExists else {
                    throw THPLabError(.unsupported, "this kernel has no zram (modprobe zram failed)")
                }
            }
            made.append((.module, "zram"))
        }
        guard BlockDevices.zramDisksize == "0", !active().contains(dev) else {
            throw THPLabError(.unsupported, "\(dev) is in use (its disksize is set): thplab does not take it over")
        }
        try guardian.create(.zram, dev) {
            if case .failure(let e) = BlockDevices.setZramDisksize(size) {
                throw THPLabError(.unsupported, "cannot size \(dev)", errno: e)
            }
        }
        made.append((.zram, dev))
        do {
            let fd = try FileDescriptor.open(FilePath(dev), .writeOnly, options: .closeOnExec)
            defer { try? fd.close() }
            _ = try fd.writeAll(toAbsoluteOffset: 0, Self.header(size: size))
        } catch let e as Errno {
            throw THPLabError(.unsupported, "cannot write a swap header to \(dev)", errno: e)
        }
        try guardian.create(.swap, dev) {
            if case .failure(let e) = Sys.result({ try Sys.swapon(dev) }) {
                throw THPLabError(.unsupported, "swapon \(dev) failed", errno: e)
            }
        }
        made.append((.swap, dev))
        return dev
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

    /// Whether the swap's device is rotational (queue/rotational of the
    /// block device holding it, or of the device itself); nil when unknown.
    /// The kernel swaps a large folio out whole only to a non-rotational
    /// device; on a rotational one it splits it first.
    public var rotational: Bool? { BlockDevices.rotational(path) }

    /// Swaps off and removes what thplab made, last made first.
    public func remove() {
        for (kind, p) in made.reversed() { guardian.undo(kind, p) }
        made = []
    }

    deinit { remove() }
}
