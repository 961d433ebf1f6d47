import Foundation
import THPLab

/// The fuzz targets: every parser of text the kernel writes, the size
/// parser users type into, and the result loader. Each takes any
/// bytes; a crash, a hang or a sanitizer report is a bug.
enum FuzzTargets {
    static let all: [(name: String, run: @Sendable ([UInt8]) -> Void)] = [
        ("smaps", { _ = SmapsParser.parse(text($0)) }),
        ("numa_maps", { _ = NumaMaps.parse(text($0)) }),
        ("vmstat", { _ = ProcCounters.parseVmstat(text($0)) }),
        ("meminfo", { _ = ProcCounters.parseMeminfo(text($0)) }),
        ("status", { _ = ProcStatus.thpEnabled(text($0)) }),
        ("per_size_stats", { _ = PerSizeStats.parse(grepOutput: text($0)) }),
        ("sysfs_value", { _ = SysfsValue.parse(text($0)) }),
        ("node_list", { _ = NumaTopology.parseListStrict(text($0)) }),
        ("mounts", { _ = MountTable.parse(text($0)) }),
        ("cgroup", { bytes in _ = MemoryCgroup.locate(mountsText: text(bytes), controllers: { _ in text(bytes) }) }),
        ("kernel_config", { _ = KernelConfig.parse(text($0)) }),
        ("trace_format", { _ = TraceFormat.parse(text($0)) }),
        // A format file, an empty line, then trace lines read with it.
        ("trace_lines", { bytes in
            let parts = text(bytes).components(separatedBy: "\n\n")
            let format = TraceFormat.parse(parts[0])
            _ = ScanTracer.parse(trace: parts.dropFirst().joined(separator: "\n\n"), formats: ["mm_khugepaged_scan_pmd": format, "mm_khugepaged_scan_file": format])
        }),
        // /proc/PID/maps lines (the header line smaps shares).
        ("maps", { bytes in
            for line in text(bytes).split(separator: "\n") { _ = SmapsParser.parseHeader(line) }
            _ = MapsList.parse(text(bytes))
        }),
        // pagemap entries and kpageflags words: the first half of the input
        // as 8-byte entries, the second as the flags of their PFNs.
        ("pagemap", { bytes in
            let words = stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).map { i in
                bytes[i..<i + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            }
            let half = words.count / 2
            let entries = words.prefix(half), flags = Array(words.suffix(from: half)) + Array(repeating: 0, count: 512)
            flags.withUnsafeBufferPointer { all in
                let block = UnsafeBufferPointer(rebasing: all[0..<512])
                for (i, e) in entries.enumerated() {
                    _ = PageClassifier.classify(entry: e, pmdMapped: i % 3 == 0 ? nil : i % 3 == 1, flags: i % 5 == 0 ? nil : flags[i]) {
                        PageClassifier.folioPages(block: block, offset: i % 512)
                    }
                }
            }
        }),
        // NAME=VALUE lines, as `knobs set` and `knobs load` take them,
        // validated against a sysfs tree of a 6.18 host's files.
        ("knob_request", { bytes in
            let t = text(bytes)
            _ = try? KnobProfile.load(t, sysfs: fixtureSysfs)
            _ = try? KnobRequest.parse(t.split(separator: "\n").map(String.init), sysfs: fixtureSysfs)
        }),
        ("size", { _ = try? SizeParser.parse(text($0)) }),
        ("result_json", { _ = try? ResultFile.decode($0, source: "fuzz") }),
    ]

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A THP sysfs tree as a 6.18 host has it (choices, ranges, per-size
    /// directories), made once in $THPLAB_FUZZ_SYSFS (scripts/fuzz points
    /// it into its work directory) or the temporary directory. Read only.
    static let fixtureSysfs: THPSysfs = {
        let root = ProcessInfo.processInfo.environment["THPLAB_FUZZ_SYSFS"] ?? NSTemporaryDirectory() + "thplab-fuzz-sysfs"
        let files = [
            "enabled": "always [madvise] never", "defrag": "always defer defer+madvise [madvise] never",
            "shmem_enabled": "always within_size advise [never] deny force", "use_zero_page": "1", "shrink_underused": "1",
            "khugepaged/max_ptes_none": "511", "khugepaged/max_ptes_swap": "64", "khugepaged/max_ptes_shared": "256",
            "khugepaged/pages_to_scan": "4096", "khugepaged/scan_sleep_millisecs": "10000", "khugepaged/alloc_sleep_millisecs": "60000",
            "khugepaged/defrag": "1", "khugepaged/full_scans": "12", "khugepaged/pages_collapsed": "3",
            "hugepages-2048kB/enabled": "always inherit madvise [never]", "hugepages-64kB/enabled": "always inherit madvise [never]",
            "hugepages-2048kB/shmem_enabled": "always [inherit] within_size advise never",
            "hugepages-64kB/shmem_enabled": "always inherit within_size advise [never]",
        ]
        for (name, value) in files {
            let path = root + "/" + name
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data((value + "\n").utf8))
        }
        return THPSysfs(root: root)
    }()

    static var names: [String] { all.map(\.name) }

    static func named(_ name: String) -> (@Sendable ([UInt8]) -> Void)? { all.first { $0.name == name }?.run }
}
