import Dispatch
import FoundationEssentials

/// Classifies a process's VMAs on every CPU it may use. The kernel's work
/// (pagemap, kpageflags, PAGEMAP_SCAN walks) splits by address range, so
/// the VMAs are cut into units on the fixed 64 MiB chunk grid, which no
/// extent straddles; each worker thread has its own VmaScanner and takes
/// the next unit; the outcomes are put back together in address order.
/// The answer is the sequential scan's, unit boundaries or not (a unit
/// test compares them on fixtures, a kernel test on a live process).
enum ParallelScan {
    /// A range of one VMA (its index in the list given).
    struct Unit: Equatable {
        var vma: Int
        var start: UInt
        var end: UInt
    }

    /// What the scanners saw, for the snapshot's notes.
    struct Seen {
        var useScan = false
        var sawPFN = false
        var sawPresent = false
    }

    struct Result {
        /// Every VMA read whole, in order, up to the first that failed.
        var scanned: [(SmapsEntry, VmaScanner.Outcome)] = []
        /// The VMA the scan stopped at (the process exited or changed).
        var failure: (entry: SmapsEntry, error: Error)?
        var seen = Seen()
    }

    /// The units for `ranges` ([start, end) per VMA): about `unitsPerWorker`
    /// a worker, never smaller than one 64 MiB chunk, cut only on the chunk
    /// grid.
    static func units(_ ranges: [(UInt, UInt)], workers: Int) -> [Unit] {
        let chunk = VmaScanner.chunkBytes
        let total = ranges.reduce(UInt(0)) { $0 + ($1.1 - $1.0) }
        let perUnit = max(chunk, (total / UInt(max(1, workers * unitsPerWorker)) + chunk - 1) / chunk * chunk)
        var out: [Unit] = []
        for (v, (start, end)) in ranges.enumerated() {
            var s = start
            while s < end {
                let e = min(end, (s / perUnit + 1) * perUnit)
                out.append(Unit(vma: v, start: s, end: e))
                s = e
            }
        }
        return out
    }

    /// Units take very different times: a unit of PMD-mapped memory costs
    /// one PAGEMAP_SCAN range, one of small pages a pagemap and kpageflags
    /// word for each. With sixteen a worker, the last 256 MiB unit of small
    /// pages of a dense 8 GiB process kept one CPU busy for 6 ms after the
    /// other had finished; a unit of one chunk leaves at most a chunk's work.
    static let unitsPerWorker = 64

    /// Threads by default: the CPUs this process may use, or fewer where
    /// THPLAB_SCAN_THREADS says (scripts/bench compares 1 with all).
    static var defaultWorkers: Int {
        let cpus = Sys.allowedCPUs
        guard let n = ProcessInfo.processInfo.environment["THPLAB_SCAN_THREADS"].flatMap({ Int($0) }), n >= 1 else { return cpus }
        return min(n, cpus)
    }

    /// Below this much mapped, one thread: starting workers costs more than
    /// it saves (most processes of `snapshot --all`).
    static let parallelFrom = UInt(256 << 20)

    /// - Parameters:
    ///   - workers: threads at most; by default the CPUs this process may use.
    ///   - makeScanner: one scanner per worker (each opens its own pagemap).
    ///   - parallelFrom: the mapped size from which threads are used.
    static func scan(_ entries: [SmapsEntry], workers: Int = defaultWorkers, parallelFrom: UInt = parallelFrom,
                     makeScanner: @Sendable () throws -> VmaScanner) throws -> Result {
        let entries = entries.filter { $0.name != "[vsyscall]" }
        let ranges = entries.map { ($0.start, $0.end) }
        let total = ranges.reduce(UInt(0)) { $0 + ($1.1 - $1.0) }
        let threads = total < parallelFrom ? 1 : max(1, workers)
        let units = units(ranges, workers: threads)
        let first = try makeScanner()
        guard threads > 1, units.count > 1 else { return sequential(entries, scanner: first) }

        let next = Locked(0)
        let outcomes = Locked([Int: Swift.Result<VmaScanner.Outcome, Error>]())
        // The first VMA that failed: units of later VMAs are not read.
        let failedVma = Locked(Int.max)
        let seen = Locked(Seen())
        // The scanner already open goes to the first worker to ask.
        let spare = Locked<VmaScanner?>(first)
        DispatchQueue.concurrentPerform(iterations: min(threads, units.count)) { _ in
            // No scanner for this worker (the process is going): the others take its units.
            guard let scanner = spare.update({ s in defer { s = nil }; return s }) ?? (try? makeScanner()) else { return }
            while true {
                let i = next.update { n -> Int in defer { n += 1 }; return n }
                guard i < units.count else { break }
                let u = units[i]
                // Past a VMA that failed nothing is kept: not read.
                guard u.vma <= failedVma.get() else { continue }
                let r = Swift.Result { try scanner.scan(start: u.start, end: u.end) }
                if case .failure = r { failedVma.update { $0 = min($0, u.vma) } }
                outcomes.update { $0[i] = r }
            }
            seen.update {
                $0.useScan = $0.useScan || scanner.useScan
                $0.sawPFN = $0.sawPFN || scanner.sawPFN
                $0.sawPresent = $0.sawPresent || scanner.sawPresent
            }
        }
        return merge(entries, units: units, outcomes: outcomes.get(), seen: seen.get())
    }

    /// Today's single-threaded path, as it was: VMA by VMA, up to the first failure.
    static func sequential(_ entries: [SmapsEntry], scanner: VmaScanner) -> Result {
        var r = Result()
        for entry in entries {
            do {
                r.scanned.append((entry, try scanner.scan(start: entry.start, end: entry.end)))
            } catch {
                r.failure = (entry, error)
                break
            }
        }
        r.seen = Seen(useScan: scanner.useScan, sawPFN: scanner.sawPFN, sawPresent: scanner.sawPresent)
        return r
    }

    /// The units' outcomes joined per VMA in address order: counts added,
    /// extents in order, candidate indices shifted by the extents before.
    static func merge(_ entries: [SmapsEntry], units: [Unit], outcomes: [Int: Swift.Result<VmaScanner.Outcome, Error>],
                      seen: Seen) -> Result {
        var r = Result(seen: seen)
        var i = 0
        for (v, entry) in entries.enumerated() {
            var joined = VmaScanner.Outcome()
            while i < units.count && units[i].vma == v {
                switch outcomes[i] {
                case .success(let o)?:
                    joined.counts += o.counts
                    joined.candidates += o.candidates.map { $0 + joined.extents.count }
                    joined.extents += o.extents
                case .failure(let e)?:
                    r.failure = (entry, e)
                    return r
                case nil:
                    // Not read: no worker could open the pagemap after the first.
                    r.failure = (entry, THPLabError(.system, "a scan worker could not open the process's pagemap"))
                    return r
                }
                i += 1
            }
            r.scanned.append((entry, joined))
        }
        return r
    }
}
