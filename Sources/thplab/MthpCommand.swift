import ArgumentParser
import THPLab

extension MthpMemory: ExpressibleByArgument {}
extension MthpOptions.Swap: ExpressibleByArgument {}

struct MthpScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mthp",
        abstract: "Multi-size THP: which folio sizes faults get, fallback, partial unmapping, collapse of mTHPs and their swap-out.",
        discussion: """
            For anonymous memory (hugepages-<N>kB/enabled, 6.8+) and a memfd (shmem, \
            hugepages-<N>kB/shmem_enabled, 6.11+), under the per-size policies of \
            --knob, set for the run and put back:
              fault     five VMAs faulted in: plain 1M, advised 1M (MADV_HUGEPAGE),
                        offset 1M (4 kB off alignment; shmem: not congruent to
                        the file offset), tiny 48k, pmd 2M
              fallback  one write fault in a 2M VMA of a worker process whose
                        memory cgroup has room for less than the largest
                        allowed size: anon takes the next size, shmem a base page
              partial   half of two large folios unmapped (DONTNEED, munmap)
              collapse  2M of mTHPs, then MADV_COLLAPSE or khugepaged, traced
              swap      1M of mTHPs pushed out with MADV_PAGEOUT
            With --memory tmpfs, files on a tmpfs thplab mounts (huge= from \
            --tmpfs-huge), which per-size policies do not govern: the five fault VMAs, \
            then write 64k and write 1M, a write(2) to an empty file whose folios \
            are read back (6.18 sizes them by the write under within_size).
            Folio sizes come from pagemap and kpageflags and are compared with the \
            kernel's rule: a fault takes the largest allowed size whose aligned \
            block fits the VMA and is still empty. Beside each step: the per-size \
            counters (hugepages-<N>kB/stats) that moved.
            Without --knob: 16kB always and 64kB madvise (shmem: advise); the PMD \
            size keeps the host's policy, except in the fallback step, which \
            allows it with MADV_HUGEPAGE for itself if it must and you gave no \
            policy for it. The fallback step's cgroup (v1 or \
            v2, whichever has the memory controller) is removed afterwards.
            Swap: the host's own if it has any, else a swap file in --swap-dir, or \
            zram0 with --swap zram. A rotational device takes large folios only \
            after splitting them (swpout_fallback); zram takes them whole (swpout).
            Examples:
              thplab run mthp
              thplab run mthp --memory anon --knob hugepages-32kB/enabled=always
              thplab run mthp --memory tmpfs --tmpfs-huge always
              thplab sweep mthp --knob hugepages-64kB/enabled=never,always
            """
    )

    @Option(help: "anon, shmem (a memfd) or tmpfs (files on a tmpfs thplab mounts with --tmpfs-huge); repeatable (default: anon and shmem).")
    var memory: [MthpMemory] = []

    @Option(help: "huge= of the tmpfs for --memory tmpfs: never, always, within_size, advise.")
    var tmpfsHuge: TmpfsHuge = .within_size

    @Option(help: "A per-size policy for the run, NAME=VALUE (hugepages-64kB/enabled=always); repeatable.")
    var knob: [String] = []

    @Option(help: "Swap for the swap step when the host has none: file, zram or none (skip the step).")
    var swap: MthpOptions.Swap = .file

    @Option(help: "Where to make the swap file when the host has no swap.")
    var swapDir: String = "/var/tmp"

    @Option(help: "How the collapse step collapses: madvise (MADV_COLLAPSE) or khugepaged (MADV_HUGEPAGE, khugepaged made fast, a bounded wait).")
    var trigger: Trigger = .madvise

    @Option(help: "Bound on khugepaged's wait in the collapse step, in seconds.")
    var timeout: Int = 30

    @OptionGroup var output: OutputOptions

    func options() -> MthpOptions {
        var o = MthpOptions()
        if !memory.isEmpty { o.memory = memory }
        o.knobs = knob
        o.swap = swap
        o.swapDirectory = swapDir
        o.trigger = trigger
        o.timeoutSeconds = timeout
        o.tmpfsHuge = tmpfsHuge
        return o
    }

    func run() throws {
        let o = options()
        try output.runExperiment({ try MthpRunner.run(options: o, executable: ThisProcess.executable(), log: { Console.error("thplab: " + $0) },
                                                      progress: $0) },
                                 text: MthpTextReport.render)
    }
}
