import SystemPackage

/// Per-page truth from /proc/PID/pagemap and /proc/kpageflags.
/// pagemap: 8 bytes per virtual page (bit 63 present, 62 swapped, 61
/// file-page or shared-anon, bits 0-54 the PFN, zero without CAP_SYS_ADMIN).
/// kpageflags: 8 bytes per PFN (bit 12 ANON, 15 COMPOUND_HEAD, 16
/// COMPOUND_TAIL, 22 THP). See Documentation/admin-guide/mm/pagemap.rst.
public enum Pagemap {
    public static let present: UInt64 = 1 << 63
    public static let swapped: UInt64 = 1 << 62
    public static let fileOrSharedAnon: UInt64 = 1 << 61
    public static let pfnMask: UInt64 = (1 << 55) - 1

    public enum KPF {
        public static let anon: UInt64 = 1 << 12
        public static let compoundHead: UInt64 = 1 << 15
        public static let compoundTail: UInt64 = 1 << 16
        public static let thp: UInt64 = 1 << 22
        /// The shared zero page (KPF_ZERO_PAGE; the huge zero page also has KPF_THP).
        public static let zeroPage: UInt64 = 1 << 24
    }

    /// Reads the pagemap entries of `[start, end)` of process `pid`.
    public static func entries(pid: Int32, start: UInt, end: UInt, procRoot: String = "/proc") throws -> [UInt64] {
        let page = UInt(Sys.pageSize)
        let count = Int((end - start) / page)
        return try readWords(path: "\(procRoot)/\(pid)/pagemap", index: UInt64(start / page), count: count)
    }

    /// Calls `body(page index, PFN)` for every present page of `[start, end)`
    /// of `pid` whose PFN is shown (CAP_SYS_ADMIN); nothing when the
    /// process or its pagemap is gone.
    public static func forEachPresentPFN(pid: Int32, start: UInt, end: UInt, _ body: (Int, UInt64) -> Void) {
        guard let words = try? entries(pid: pid, start: start, end: end) else { return }
        for (i, w) in words.enumerated() where w & present != 0 {
            let pfn = w & pfnMask
            if pfn != 0 { body(i, pfn) }
        }
    }

    static func readWords(path: String, index: UInt64, count: Int) throws -> [UInt64] {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) } catch let e as Errno {
            throw THPLabError.system("cannot open \(path)", e)
        }
        defer { try? fd.close() }
        return try readWords(fd: fd, path: path, index: index, count: count)
    }

    static func readWords(fd: FileDescriptor, path: String, index: UInt64, count: Int) throws -> [UInt64] {
        var words = [UInt64](repeating: 0, count: count)
        _ = try words.withUnsafeMutableBufferPointer { try read(fd: fd, path: path, index: index, into: $0) }
        return words
    }

    /// Reads words `index..<index + into.count` into `into`, as many as the
    /// file holds; returns how many were read (the rest are left as they were).
    static func read(fd: FileDescriptor, path: String, index: UInt64, into words: UnsafeMutableBufferPointer<UInt64>) throws -> Int {
        let raw = UnsafeMutableRawBufferPointer(words)
        var done = 0
        while done < raw.count {
            let n: Int
            do {
                n = try fd.read(fromAbsoluteOffset: Int64(index * 8) + Int64(done), into: UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
            } catch let e as Errno {
                throw THPLabError.system("cannot read \(path)", e)
            }
            if n == 0 { break }
            done += n
        }
        return done / 8
    }

    /// Present pages of each 2 MiB extent from `start` of `pid` that map
    /// the shared zero page, as the underused-THP shrinker leaves the
    /// zero-filled subpages of a THP it splits. Needs PFNs (CAP_SYS_ADMIN):
    /// nil without them.
    public static func zeroPagesPerExtent(pid: Int32, start: UInt, extents: Int) -> [Int]? {
        guard let fd = try? FileDescriptor.open("/proc/kpageflags", .readOnly, options: .closeOnExec) else { return nil }
        defer { try? fd.close() }
        var counts = [Int](repeating: 0, count: extents)
        var known: [UInt64: Bool] = [:]
        forEachPresentPFN(pid: pid, start: start, end: start + UInt(extents * PageGeometry.pmdSize)) { i, pfn in
            let zero = known[pfn] ?? {
                let z = ((try? readWords(fd: fd, path: "/proc/kpageflags", index: pfn, count: 1))?.first ?? 0) & KPF.zeroPage != 0
                known[pfn] = z
                return z
            }()
            if zero { counts[i / PageGeometry.pagesPerPmd] += 1 }
        }
        return counts
    }
}
