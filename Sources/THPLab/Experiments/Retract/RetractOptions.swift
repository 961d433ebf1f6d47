/// Everything that shapes one `run retract`, validated before anything is
/// allocated or changed.
@dynamicMemberLookup
public struct RetractOptions: ComposedOptions, Equatable, Sendable {
    public var common = ExperimentOptions(processes: 2, trigger: .madvise)
    public var own = Own()

    /// Retract's own options.
    public struct Own: Codable, Equatable, Sendable {
        /// Bytes; a multiple of 2 MiB.
        public var size: Int = 4 << 20
        public var cowPages: Int = 1
        public var misaligned: Bool = true
        /// Size of thplab's own tmpfs; default `size + 2 MiB`.
        public var tmpfsSize: Int?
        /// How many times MADV_HUGEPAGE is given (khugepaged trigger): 2 by
        /// default, because under shmem `advise` only the second call puts the
        /// process on khugepaged's list; 1 shows that.
        public var madviseTimes: Int = 2
        /// Add a mapping that gets MADV_NOHUGEPAGE after the collapse.
        public var nohugepage = false
        /// Add a mapping with userfaultfd write-protect armed.
        public var uffdWp = false

        enum CodingKeys: String, CodingKey {
            case size, misaligned, cowPages = "cow_pages", tmpfsSize = "tmpfs_size", madviseTimes = "madvise_times"
            case nohugepage, uffdWp = "uffd_wp"
        }
    }

    public init() {}
    public init(common: ExperimentOptions, own: Own) {
        self.common = common
        self.own = own
    }

    public static let maxProcesses = 64

    /// Checks the options against each other and the host's free memory.
    /// Throws a usage error (exit 2) naming the option to change.
    public func validate(room: MemoryRoom?) throws {
        let huge = PageGeometry.pmdSize
        let size = own.size, cowPages = own.cowPages
        guard common.backing != .anon else {
            throw THPLabError.usage("retract needs a file or shmem object (page-table retraction is about files); anonymous memory is for `run collapse --backing anon`")
        }
        try common.validate(maxProcesses: Self.maxProcesses)
        guard size > 0 else { throw THPLabError.usage("--size must be larger than 0") }
        guard size % huge == 0 else {
            throw THPLabError.usage("--size \(SizeParser.format(size)) is not a multiple of 2 MiB; collapse works on whole 2 MiB extents (try \(SizeParser.format((size / huge + 1) * huge)))")
        }
        let pages = size / PageGeometry.pageSize
        guard (1...pages).contains(cowPages) else {
            throw THPLabError.usage("--cow-pages must be from 1 to \(pages), the pages in the region (\(SizeParser.format(size)))")
        }
        guard (1...2).contains(own.madviseTimes) else { throw THPLabError.usage("--madvise-times must be 1 or 2") }
        if let tmpfsSize = own.tmpfsSize, tmpfsSize <= 0 { throw THPLabError.usage("--tmpfs-size must be larger than 0") }
        // The object, a second copy while collapse_file() copies it, and the
        // copy-on-write pages of every private-written mapping.
        let needed = Int64(2 * size + common.processes * cowPages * PageGeometry.pageSize + (64 << 20))
        if let room, needed > room.kb * 1024 {
            throw THPLabError.usage("--size \(SizeParser.format(size)) needs about \(needed >> 20) MiB but only \(room.kb >> 10) MiB is available (\(room.source)); choose a smaller --size")
        }
    }

    /// The mappings of each process: one of every role.
    public var specs: [MappingSpec] {
        var s = [MappingSpec(role: .shared), MappingSpec(role: .privateClean),
                 MappingSpec(role: .privateWritten, cowPages: own.cowPages)]
        if own.misaligned { s.append(MappingSpec(role: .misaligned)) }
        if own.nohugepage { s.append(MappingSpec(role: .nohugepage)) }
        if own.uffdWp { s.append(MappingSpec(role: .uffdWp)) }
        return s
    }
}
