/// Everything that shapes one `run retract`, validated before anything is
/// allocated or changed.
public struct RetractOptions: Codable, Equatable, Sendable {
    public var backing: Backing = .memfd
    /// Bytes; a multiple of 2 MiB.
    public var size: Int = 4 << 20
    /// thplab itself plus `processes - 1` workers.
    public var processes: Int = 2
    public var cowPages: Int = 1
    public var misaligned: Bool = true
    public var trigger: Trigger = .madvise
    public var timeoutSeconds: Int = 60
    public var tmpfsHuge: TmpfsHuge = .advise
    /// Size of thplab's own tmpfs; default `size + 2 MiB`.
    public var tmpfsSize: Int?
    /// Directory for the `file` backing.
    public var directory: String = "."
    /// How many times MADV_HUGEPAGE is given (khugepaged trigger): 2 by
    /// default, because under shmem `advise` only the second call puts the
    /// process on khugepaged's list; 1 shows that.
    public var madviseTimes: Int = 2
    /// Wait the whole bound even when no collapse is expected (by default
    /// the wait ends once khugepaged passed over its list twice).
    public var fullWait = false
    /// Add a mapping that gets MADV_NOHUGEPAGE after the collapse.
    public var nohugepage = false
    /// Add a mapping with userfaultfd write-protect armed.
    public var uffdWp = false
    /// Show other processes' huge_memory events too.
    public var allEvents = false

    enum CodingKeys: String, CodingKey {
        case backing, size, processes, trigger, misaligned, directory
        case cowPages = "cow_pages", timeoutSeconds = "timeout_seconds", tmpfsHuge = "tmpfs_huge"
        case tmpfsSize = "tmpfs_size", madviseTimes = "madvise_times", fullWait = "full_wait", nohugepage, uffdWp = "uffd_wp"
        case allEvents = "all_events"
    }

    public init() {}

    /// Results written by an older thplab lack newer options: they take
    /// their defaults, so old files still load.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RetractOptions()
        backing = try c.decodeIfPresent(Backing.self, forKey: .backing) ?? d.backing
        size = try c.decodeIfPresent(Int.self, forKey: .size) ?? d.size
        processes = try c.decodeIfPresent(Int.self, forKey: .processes) ?? d.processes
        cowPages = try c.decodeIfPresent(Int.self, forKey: .cowPages) ?? d.cowPages
        misaligned = try c.decodeIfPresent(Bool.self, forKey: .misaligned) ?? d.misaligned
        trigger = try c.decodeIfPresent(Trigger.self, forKey: .trigger) ?? d.trigger
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? d.timeoutSeconds
        tmpfsHuge = try c.decodeIfPresent(TmpfsHuge.self, forKey: .tmpfsHuge) ?? d.tmpfsHuge
        tmpfsSize = try c.decodeIfPresent(Int.self, forKey: .tmpfsSize)
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? d.directory
        madviseTimes = try c.decodeIfPresent(Int.self, forKey: .madviseTimes) ?? d.madviseTimes
        allEvents = try c.decodeIfPresent(Bool.self, forKey: .allEvents) ?? d.allEvents
        fullWait = try c.decodeIfPresent(Bool.self, forKey: .fullWait) ?? d.fullWait
        nohugepage = try c.decodeIfPresent(Bool.self, forKey: .nohugepage) ?? d.nohugepage
        uffdWp = try c.decodeIfPresent(Bool.self, forKey: .uffdWp) ?? d.uffdWp
    }

    public static let maxProcesses = 64

    /// Checks the options against each other and the host's free memory.
    /// Throws a usage error (exit 2) naming the option to change.
    public func validate(memAvailableKB: Int64?) throws {
        let huge = PageGeometry.pmdSize
        guard backing != .anon else {
            throw THPLabError.usage("retract needs a file or shmem object (page-table retraction is about files); anonymous memory is for `run collapse --backing anon`")
        }
        guard size > 0 else { throw THPLabError.usage("--size must be larger than 0") }
        guard size % huge == 0 else {
            throw THPLabError.usage("--size \(SizeParser.format(size)) is not a multiple of 2 MiB; collapse works on whole 2 MiB extents (try \(SizeParser.format((size / huge + 1) * huge)))")
        }
        guard (1...Self.maxProcesses).contains(processes) else {
            throw THPLabError.usage("--processes must be from 1 to \(Self.maxProcesses) (1 means thplab alone, no worker)")
        }
        let pages = size / 4096
        guard (1...pages).contains(cowPages) else {
            throw THPLabError.usage("--cow-pages must be from 1 to \(pages), the pages in the region (\(SizeParser.format(size)))")
        }
        guard (1...3600).contains(timeoutSeconds) else {
            throw THPLabError.usage("--timeout must be from 1 to 3600 seconds")
        }
        guard (1...2).contains(madviseTimes) else { throw THPLabError.usage("--madvise-times must be 1 or 2") }
        if let tmpfsSize, tmpfsSize <= 0 { throw THPLabError.usage("--tmpfs-size must be larger than 0") }
        if backing == .file && !Sys.isDirectory(directory) {
            throw THPLabError.usage("--dir \(directory) does not exist or is not a directory")
        }
        // The object, a second copy while collapse_file() copies it, and the
        // copy-on-write pages of every private-written mapping.
        let needed = Int64(2 * size + processes * cowPages * 4096 + (64 << 20))
        if let memAvailableKB, needed > memAvailableKB * 1024 {
            throw THPLabError.usage("--size \(SizeParser.format(size)) needs about \(needed >> 20) MiB but only \(memAvailableKB >> 10) MiB is available (MemAvailable); choose a smaller --size")
        }
    }

    /// The mappings of each process: one of every role.
    public var specs: [MappingSpec] {
        var s = [MappingSpec(role: .shared), MappingSpec(role: .privateClean),
                 MappingSpec(role: .privateWritten, cowPages: cowPages)]
        if misaligned { s.append(MappingSpec(role: .misaligned)) }
        if nohugepage { s.append(MappingSpec(role: .nohugepage)) }
        if uffdWp { s.append(MappingSpec(role: .uffdWp)) }
        return s
    }
}
