import SystemPackage

/// The object every mapping of an experiment maps: a memfd, a file on a
/// private tmpfs, in /dev/shm, or on a disk filesystem. Its end removes
/// whatever was created (file, mount, directory); the host guard journals
/// each of them before it exists, so a killed run's leftovers are removed by
/// the next run.
public final class SharedObject {
    public let backing: Backing
    public let size: Int
    public let fd: FileDescriptor
    /// The name smaps shows for its mappings (`/memfd:thplab-123 (deleted)`
    /// or a path).
    public let name: String
    public let path: String?
    /// The filesystem's `huge=` mount option for tmpfs and /dev/shm.
    public let mountHuge: String?
    private let mountPoint: String?
    private let guardian: HostGuard

    /// Creates the object with `size` bytes (sparse: nothing is allocated
    /// until populate).
    /// - Parameter suffix: tells several objects of one run apart (`-r1`).
    public init(backing: Backing, size: Int, tmpfsHuge: TmpfsHuge, tmpfsSize: Int?, directory: String,
                guardian: HostGuard, suffix: String = "") throws {
        self.backing = backing
        self.size = size
        self.guardian = guardian
        let tag = "thplab-\(Sys.pid)\(suffix)"
        var mountPoint: String?
        var path: String?
        var mountHuge: String?
        let openedFD: FileDescriptor
        do {
            switch backing {
            case .anon:
                throw THPLabError.usage("anonymous memory has no object to share")
            case .memfd:
                break
            case .tmpfs:
                let mp = "/tmp/\(tag)-tmpfs"
                try guardian.create(.directory, mp) {
                    if case .failure(let e) = Sys.result({ try Sys.mkdir(mp) }) { throw THPLabError.system("cannot create \(mp)", e) }
                }
                mountPoint = mp
                let bytes = tmpfsSize ?? (size + 2 * SizeParser.mib)
                let options = "size=\(bytes),huge=\(tmpfsHuge.rawValue),mode=0700"
                try guardian.create(.mount, mp) {
                    if case .failure(let e) = Sys.result({ try Sys.mountTmpfs(at: mp, options: options) }) {
                        throw THPLabError.system("cannot mount a tmpfs at \(mp) with \(options)", e)
                    }
                }
                mountHuge = tmpfsHuge.rawValue
                path = mp + "/\(tag)-object"
            case .shm:
                path = ShmemNames.devShm + "/\(tag)"
                mountHuge = MountTable.hugeOption(of: ShmemNames.devShm) ?? "never"
            case .file:
                guard Sys.isDirectory(directory) else {
                    throw THPLabError.usage("--dir \(directory) is not a directory")
                }
                path = (Sys.realpath(directory) ?? directory) + "/.\(tag)-object"
            }
            if let path {
                openedFD = try Self.createFile(path, guardian: guardian)
            } else {
                openedFD = try Sys.result { try Sys.memfdCreate(name: tag) }.mapError { THPLabError.system("memfd_create failed", $0) }.get()
            }
            if case .failure(let e) = Sys.result({ try Sys.ftruncate(openedFD, size: Int64(size)) }) {
                try? openedFD.close()
                throw THPLabError.system("cannot size the object to \(size) bytes", e)
            }
        } catch {
            SharedObject.removeLeftovers(path: path, mountPoint: mountPoint, backing: backing, guardian: guardian)
            throw error
        }
        self.fd = openedFD
        self.name = path ?? "/memfd:\(tag)"
        self.path = path
        self.mountPoint = mountPoint
        self.mountHuge = mountHuge
    }

    /// Creates the object's file, journaled first; it must not exist yet.
    private static func createFile(_ path: String, guardian: HostGuard) throws -> FileDescriptor {
        try guardian.create(.file, path) {
            do {
                return try FileDescriptor.open(FilePath(path), .readWrite, options: [.create, .exclusiveCreate, .closeOnExec],
                                               permissions: [.ownerReadWrite])
            } catch let e as Errno {
                throw THPLabError.system("cannot create \(path)", e)
            }
        }
    }

    deinit {
        try? fd.close()
        SharedObject.removeLeftovers(path: path, mountPoint: mountPoint, backing: backing, guardian: guardian)
    }

    private static func removeLeftovers(path: String?, mountPoint: String?, backing: Backing, guardian: HostGuard) {
        if let path { guardian.undo(.file, path) }
        if let mountPoint {
            guardian.undo(.mount, mountPoint)
            guardian.undo(.directory, mountPoint)
        }
    }

    /// write(2)s `bytes` at `offset` (whole, retried on short writes).
    public func write(_ bytes: [UInt8], at offset: Int64) throws {
        do { _ = try fd.writeAll(toAbsoluteOffset: offset, bytes) } catch {
            throw THPLabError.system("write(2) of \(bytes.count) bytes to \(name) failed", error as? Errno ?? .ioError)
        }
    }

    /// The name khugepaged's tracepoints print for it (the dentry name).
    public var traceName: String {
        path.map { String($0.split(separator: "/").last ?? "") } ?? String(name.dropFirst(1))
    }
}
