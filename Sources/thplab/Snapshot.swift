import ArgumentParser
import THPLab

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
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
            Changes nothing. Reading another user's process needs root.
            """
    )

    @Option(name: .customLong("pid"), help: "A process to look at (repeatable).")
    var pids: [Int32] = []

    @Flag(name: .customLong("self"), help: "Look at thplab's own process.")
    var includeSelf = false

    @Flag(help: "Add the system-wide view: huge-page lines of /proc/meminfo, vmstat thp_*, khugepaged counters.")
    var system = false

    @Flag(help: "Record one class letter per page in each extent (P pmd, T pte-thp, m mthp, s small, w swapped, . none).")
    var pages = false

    @Flag(help: "List the extents under each VMA in the table.")
    var extents = false

    @Flag(help: "Show VMAs with nothing resident too.")
    var allVmas = false

    @Flag(inversion: .prefixedNo, help: "Pages per NUMA node for each VMA, from numa_maps (default: on a host with more than one node; the kernel walks the page tables again for it).")
    var numa: Bool?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let bad = pids.first(where: { $0 <= 0 }) { throw ValidationError("--pid \(bad) is not a process id") }
    }

    func run() throws {
        var list = pids
        if includeSelf { list.append(Sys.pid) }
        let showSystem = system || list.isEmpty
        let s = try SnapshotTaker.take(pids: list, system: showSystem, withPages: pages, numa: numa)
        try output.emit(s) { SnapshotTextReport.render(s, .init(allVMAs: allVmas, extents: extents || pages)) }
    }
}
