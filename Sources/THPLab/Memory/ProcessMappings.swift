import SystemPackage

/// The mappings of the object in one process (thplab itself or a worker),
/// and the actions the experiment asks of them. The same code runs in every
/// process, so a worker's mappings behave exactly like thplab's own.
public final class ProcessMappings {
    public let specs: [MappingSpec]
    private(set) var regions: [MappedRegion] = []
    /// userfaultfds keeping write-protect armed on `uffd-wp` mappings.
    private var uffds: [FileDescriptor] = []

    deinit { for fd in uffds { try? fd.close() } }

    /// Maps the object once per spec; see `MappedRegion` for alignment.
    public init(fd: FileDescriptor, size: Int, specs: [MappingSpec]) throws {
        self.specs = specs
        for spec in specs {
            regions.append(try MappedRegion(fd: fd, length: size, fileOffset: 0, shared: spec.role.isShared,
                                            misalignBy: spec.role == .misaligned ? MappingSpec.misalignment : 0))
        }
    }

    public var placements: [MappingPlacement] {
        zip(specs, regions).map { MappingPlacement(role: $0.role, start: $1.start, end: $1.end) }
    }

    /// Faults every page in as the role says: shared mappings write, private
    /// and misaligned ones read, then private-written writes its COW pages.
    /// MADV_POPULATE_* turn a full filesystem into an error instead of SIGBUS.
    public func populate() throws {
        for (spec, region) in zip(specs, regions) {
            let advice: Advice = spec.role == .shared ? .populateWrite : .populateRead
            try check(Sys.result({ try region.madvise(advice) }), "populating the \(spec.role.rawValue) mapping", spec)
            if spec.role == .privateWritten {
                try check(Sys.result({ try region.writePages(spec.cowPages) }), "writing \(spec.cowPages) copy-on-write pages", spec)
            }
            if spec.role == .uffdWp {
                switch Sys.result({ try Sys.armUffdWriteProtect(address: region.start, length: region.length) }) {
                case .success(let fd): uffds.append(fd)
                case .failure(let e):
                    throw THPLabError(.unsupported, "userfaultfd write-protect on a shmem mapping is not available here (needs CONFIG_PTE_MARKER_UFFD_WP, 6.0+)", errno: e)
                }
            }
        }
    }

    /// Touches every page of every mapping again by reading it.
    public func refault() throws {
        for (spec, region) in zip(specs, regions) {
            try check(Sys.result({ try region.madvise(.populateRead) }), "re-faulting the \(spec.role.rawValue) mapping", spec)
        }
    }

    /// MADV_HUGEPAGE on every mapping, `times` times. khugepaged_enter_vma()
    /// registers the mm only if the VMA is eligible at that moment, and for
    /// shmem under `advise` eligibility is read from vma->vm_flags, which
    /// the first call has not yet updated: only a second call registers it.
    public func adviseHugepage(times: Int = 2) throws {
        for (spec, region) in zip(specs, regions) {
            try check(region.adviseHugepage(times: times), "MADV_HUGEPAGE on the \(spec.role.rawValue) mapping", spec)
        }
    }

    /// MADV_NOHUGEPAGE on the mappings of the `nohugepage` role.
    public func adviseNoHugepage() throws {
        for (spec, region) in zip(specs, regions) where spec.role == .nohugepage {
            try check(Sys.result({ try region.madvise(.noHugepage) }), "MADV_NOHUGEPAGE on the nohugepage mapping", spec)
        }
    }

    /// MADV_COLLAPSE over the whole of the first mapping with `role`.
    public func collapse(role: MappingRole) -> AdviceOutcome? {
        guard let i = specs.firstIndex(where: { $0.role == role }) else { return nil }
        let region = regions[i]
        let call = region.collapse()
        return AdviceOutcome(advice: "MADV_COLLAPSE", role: role, pid: Sys.pid, start: region.start,
                             length: region.length, errno: call.errno?.rawValue ?? 0, errnoName: call.errnoName,
                             eagainRetries: call.eagainRetries == 0 ? nil : call.eagainRetries)
    }

    private func check(_ r: Result<Void, Errno>, _ what: String, _ spec: MappingSpec) throws {
        if case .failure(let e) = r {
            throw THPLabError.system("\(what) in pid \(Sys.pid) failed", e)
        }
    }
}

/// errno values by their C names, as kernel people read them; results
/// keep the name, and code compares against these constants.
public enum ErrnoName {
    public static let eperm = "EPERM", enoent = "ENOENT", eintr = "EINTR", eagain = "EAGAIN", enomem = "ENOMEM"
    public static let eacces = "EACCES", efault = "EFAULT", ebusy = "EBUSY", einval = "EINVAL", enospc = "ENOSPC"
    public static let enosys = "ENOSYS", esrch = "ESRCH", eopnotsupp = "EOPNOTSUPP", enodev = "ENODEV"

    static let byValue: [Int32: String] = [
        Errno.notPermitted.rawValue: eperm, Errno.noSuchFileOrDirectory.rawValue: enoent, Errno.interrupted.rawValue: eintr,
        Errno.resourceTemporarilyUnavailable.rawValue: eagain, Errno.noMemory.rawValue: enomem,
        Errno.permissionDenied.rawValue: eacces, Errno.badAddress.rawValue: efault, Errno.resourceBusy.rawValue: ebusy,
        Errno.invalidArgument.rawValue: einval, Errno.noSpace.rawValue: enospc, Errno.noFunction.rawValue: enosys,
        Errno.noSuchProcess.rawValue: esrch, Errno.notSupported.rawValue: eopnotsupp, Errno.operationNotSupportedByDevice.rawValue: enodev,
    ]

    public static func of(_ e: Errno) -> String { byValue[e.rawValue] ?? "errno \(e.rawValue)" }
}
