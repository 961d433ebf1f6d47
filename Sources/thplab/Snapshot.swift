import ArgumentParser
import THPLab

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Exact THP coverage of processes and the system, VMA by VMA and extent by extent.",
        discussion: """
            Every 2 MiB-aligned extent of every VMA is classified page by page:
              pmd      part of a THP mapped by a PMD
              pte-thp  part of a PMD-sized THP mapped by PTEs
              mthp     part of a large folio smaller than a PMD (multi-size THP)
              small    a base page
              swapped  swapped out
              none     not present
            Sources: the PAGEMAP_SCAN ioctl (6.7+; tells PMD mappings), /proc/PID/pagemap and
            /proc/kpageflags (PFNs need CAP_SYS_ADMIN), checked per VMA against smaps'
            AnonHugePages + ShmemPmdMapped + FilePmdMapped. Coverage % = PMD-mapped / resident.
            Changes nothing. Reading another user's process needs root. A process with 256 MiB \
            or more mapped is read on every CPU thplab may use (its affinity: `taskset -c 0` keeps \
            it to one thread; THPLAB_SCAN_THREADS=N caps the threads); the answer is the same.

            Targets: --pid (repeatable), --comm NAME, --cgroup PATH, --all. With more than one process, \
            a table of processes (largest resident first), per-cgroup totals and the whole target's \
            total come first; per-process VMA tables with --vmas. A process that exits or cannot be \
            read meanwhile is named in one note. VMAs are listed largest resident first, --top of \
            them; VMAs under 2 MiB (no PMD possible) are summed in one line unless --small.

            --objects lists every shmem segment, memfd, tmpfs or regular file mapped by more than one \
            process of the target: how much of it is in huge folios, and per process PMD-mapped, \
            PTE-mapped THP and small, and whether its next fault will map a PMD.
            """
    )

    @OptionGroup var target: TargetOptions

    @Flag(name: .customLong("self"), help: "Look at thplab's own process.")
    var includeSelf = false

    @Flag(help: "Add the system-wide view: huge-page lines of /proc/meminfo, vmstat thp_*, khugepaged counters.")
    var system = false

    @Flag(help: "Record one class letter per page in each extent (P pmd, T pte-thp, m mthp, s small, w swapped, . none).")
    var pages = false

    @Flag(help: "List the extents under each VMA in the table.")
    var extents = false

    @Flag(help: "Show VMAs with nothing resident too (and every VMA, small ones included).")
    var allVmas = false

    @Option(help: "How many VMAs per process, and processes per target, to list, largest resident first (0: all).")
    var top: Int = SnapshotTextReport.Options().top

    @Flag(help: "List VMAs under 2 MiB one by one instead of one summed line.")
    var small = false

    @Flag(help: "Per-process VMA tables when the target holds several processes.")
    var vmas = false

    @Flag(help: "Objects mapped by more than one process of the target, with their huge folios (reads every page's class).")
    var objects = false

    @Flag(inversion: .prefixedNo, help: "Pages per NUMA node for each VMA, from numa_maps (default: on a host with more than one node; the kernel walks the page tables again for it).")
    var numa: Bool?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must be 0 (all) or more") }
    }

    func run() throws {
        try SnapshotRequest(self).run()
    }
}

/// What `snapshot` was asked for, as plain values: made from the parsed
/// command, or by `QuickSnapshotArguments` from the common forms.
struct SnapshotRequest: Equatable {
    var targets: [ProcessTarget]
    var system: Bool
    var pages: Bool
    var numa: Bool?
    var objects: Bool
    var view: SnapshotTextReport.Options
    var output: OutputRequest

    func run() throws {
        let s = try SnapshotTaker.take(targets: targets, system: system, withPages: pages, numa: numa, objects: objects)
        try output.emit(s) { SnapshotTextReport.render(s, view) }
    }
}

extension SnapshotRequest {
    init(_ c: Snapshot) {
        var list = c.target.targets
        if c.includeSelf { list.append(.pid(ThisProcess.pid)) }
        self.init(targets: list, system: c.system || list.isEmpty, pages: c.pages, numa: c.numa, objects: c.objects,
                  view: .init(allVMAs: c.allVmas, extents: c.extents || c.pages, top: c.top, small: c.small, vmas: c.vmas),
                  output: c.output.request)
    }
}
