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
    }

    /// Reads the pagemap entries of `[start, end)` of process `pid`.
    public static func entries(pid: Int32, start: UInt, end: UInt, procRoot: String = "/proc") throws -> [UInt64] {
        let page = UInt(Sys.pageSize)
        let count = Int((end - start) / page)
        return try readWords(path: "\(procRoot)/\(pid)/pagemap", index: UInt64(start / page), count: count)
    }

    /// kpageflags words for the given PFNs, read in runs of consecutive PFNs.
    public static func flags(pfns: [UInt64], path: String = "/proc/kpageflags") throws -> [UInt64: UInt64] {
        var out: [UInt64: UInt64] = [:]
        let sorted = Array(Set(pfns)).sorted()
        var i = 0
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) } catch let e as Errno {
            throw THPLabError.system("cannot open \(path)", e)
        }
        defer { try? fd.close() }
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1, j - i < 4095 { j += 1 }
            let words = try readWords(fd: fd, path: path, index: sorted[i], count: j - i + 1)
            for (k, w) in words.enumerated() { out[sorted[i] + UInt64(k)] = w }
            i = j + 1
        }
        return out
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
        var done = 0
        while done < count {
            let n: Int
            do {
                n = try words.withUnsafeMutableBytes { raw in
                    try fd.read(fromAbsoluteOffset: Int64((index + UInt64(done)) * 8),
                                into: UnsafeMutableRawBufferPointer(rebasing: raw[(done * 8)...]))
                }
            } catch let e as Errno {
                throw THPLabError.system("cannot read \(path)", e)
            }
            if n == 0 { break }
            done += n / 8
        }
        return words
    }
}

/// What the pages of one range are, counted.
public struct PageCensus: Codable, Equatable, Sendable {
    public var pages: Int
    public var present: Int
    public var swapped: Int
    /// Present pages that are anonymous (pagemap bit 61 clear).
    public var anon: Int
    /// Present pages that belong to a transparent huge page (kpageflags THP);
    /// nil when PFNs are hidden (no CAP_SYS_ADMIN).
    public var thp: Int?

    /// Counts the pages of `[start, end)` of `pid`.
    public static func take(pid: Int32, start: UInt, end: UInt, withFlags: Bool = true) throws -> PageCensus {
        let entries = try Pagemap.entries(pid: pid, start: start, end: end)
        return try count(entries, flagsFor: withFlags ? { try Pagemap.flags(pfns: $0) } : nil)
    }

    /// Counts pagemap entries; `flagsFor` looks up kpageflags of their PFNs.
    public static func count(_ entries: [UInt64], flagsFor: (([UInt64]) throws -> [UInt64: UInt64])?) throws -> PageCensus {
        var c = PageCensus(pages: entries.count, present: 0, swapped: 0, anon: 0, thp: nil)
        var pfns: [UInt64] = []
        for e in entries {
            if e & Pagemap.present != 0 {
                c.present += 1
                if e & Pagemap.fileOrSharedAnon == 0 { c.anon += 1 }
                let pfn = e & Pagemap.pfnMask
                if pfn != 0 { pfns.append(pfn) }
            } else if e & Pagemap.swapped != 0 {
                c.swapped += 1
            }
        }
        if let flagsFor, !pfns.isEmpty, pfns.count == c.present {
            let flags = try flagsFor(pfns)
            c.thp = pfns.filter { (flags[$0] ?? 0) & Pagemap.KPF.thp != 0 }.count
        } else if c.present == 0 {
            c.thp = 0
        }
        return c
    }
}
