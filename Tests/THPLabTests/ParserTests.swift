import Testing
@testable import THPLab

@Suite struct SysfsValueTests {
    @Test func choiceFileGivesSelectedAndOptions() throws {
        let v = SysfsValue.parse(try Fixture.text("sysfs/shmem_enabled.txt"))
        #expect(v.current == "never")
        #expect(v.options == ["always", "within_size", "advise", "never", "deny", "force"])
    }

    @Test func perSizeFileOffersInherit() throws {
        let v = SysfsValue.parse(try Fixture.text("sysfs/hugepages-2048kB_shmem_enabled.txt"))
        #expect(v.current == "inherit")
        #expect(v.options.contains("inherit"))
        #expect(!v.options.contains("deny"))
    }

    @Test func numericFileHasNoOptions() throws {
        let v = SysfsValue.parse(try Fixture.text("sysfs/khugepaged_max_ptes_none.txt"))
        #expect(v.current == "511")
        #expect(v.options.isEmpty)
    }

    @Test(arguments: [("always [madvise] never\n", "madvise"), ("[always] madvise never", "always"), ("  42 \n", "42"), ("", "")])
    func parsesInlineText(text: String, current: String) {
        #expect(SysfsValue.parse(text).current == current)
    }
}

@Suite struct SmapsParserTests {
    @Test func everyHeaderBecomesAnEntry() throws {
        let text = try Fixture.text("smaps-tmpfs-huge-always-6.18.txt")
        let entries = SmapsParser.parse(text)
        let headers = text.split(separator: "\n").filter { line in
            let first = line.split(separator: " ").first ?? ""
            let halves = first.split(separator: "-")
            return halves.count == 2 && halves.allSatisfy { $0.allSatisfy(\.isHexDigit) }
        }
        #expect(entries.count == headers.count)
        #expect(entries.allSatisfy { $0.end > $0.start })
        #expect(entries == entries.sorted { $0.start < $1.start })
    }

    @Test func pmdMappedTmpfsMapping() throws {
        let entries = SmapsParser.parse(try Fixture.text("smaps-tmpfs-huge-always-6.18.txt"))
        let object = entries.filter { $0.name.hasSuffix("thplab-6580-object") }
        #expect(object.count == 4)
        // The shared mapping populated on a huge=always tmpfs: PMD-mapped.
        let shared = try #require(object.first { $0.permissions == "rw-s" && $0.start % (2 << 20) == 0 })
        #expect(shared.rssKB == 4096)
        #expect(shared.kb("ShmemPmdMapped") == 4096)
        #expect(shared.pmdMappedKB == 4096)
        #expect(shared.vmFlags.contains("sh"))
        // The misaligned mapping maps the same huge folios with PTEs only.
        let misaligned = try #require(object.first { $0.start % (2 << 20) == 0x1000 })
        #expect(misaligned.rssKB == 4096)
        #expect(misaligned.pmdMappedKB == 0)
        #expect(misaligned.thpEligible == false)
        // The private-written mapping: one copy-on-write anonymous page.
        let written = try #require(object.first { $0.anonymousKB > 0 })
        #expect(written.anonymousKB == 4)
        #expect(written.permissions == "rw-p")
    }

    @Test func memfdNameAndDeletedSuffix() throws {
        let entries = SmapsParser.parse(try Fixture.text("smaps-memfd-populated-6.18.txt"))
        let memfd = entries.filter { $0.name.hasPrefix("/memfd:thplab-") }
        #expect(memfd.count == 4)
        #expect(memfd.allSatisfy { $0.name.hasSuffix("(deleted)") && $0.rssKB == 4096 && $0.pmdMappedKB == 0 })
        #expect(memfd.allSatisfy { $0.device == "00:01" && $0.inode == memfd[0].inode })
    }

    @Test func headerParsing() {
        let e = SmapsParser.parseHeader("7f00-7f10 rw-s 00200000 00:01 1031   /memfd:x (deleted)")
        #expect(e?.start == 0x7f00)
        #expect(e?.offset == 0x200000)
        #expect(e?.name == "/memfd:x (deleted)")
        #expect(SmapsParser.parseHeader("Rss:  4 kB") == nil)
        #expect(SmapsParser.parseHeader("garbage") == nil)
    }
}

@Suite struct CounterTests {
    @Test func vmstatHasTheThpLines() throws {
        let v = ProcCounters.parseVmstat(try Fixture.text("vmstat-6.18.txt"))
        #expect(v["thp_collapse_alloc"] != nil)
        #expect(v["nr_shmem_hugepages"] != nil)
        #expect(v.count > 100)
    }

    @Test func meminfoInKB() throws {
        let m = ProcCounters.parseMeminfo(try Fixture.text("meminfo-6.18.txt"))
        #expect((m["MemTotal"] ?? 0) > 20_000_000)
        #expect(m["ShmemPmdMapped"] != nil)
        #expect(m["HugePages_Total"] != nil)
    }

    @Test func systemCountersKeepOnlyHugePageLines() throws {
        let c = SystemCounters(vmstatText: try Fixture.text("vmstat-6.18.txt"),
                               meminfoText: try Fixture.text("meminfo-6.18.txt"), khugepaged: ["full_scans": 3])
        #expect(c.vmstat.keys.allSatisfy { $0.hasPrefix("thp_") || $0.hasSuffix("_hugepages") })
        #expect(Set(c.meminfo.keys).isSubset(of: Set(SystemCounters.meminfoKeys)))
        var after = c
        after.vmstat["thp_collapse_alloc", default: 0] += 2
        after.khugepaged["full_scans"] = 5
        let d = after.delta(since: c)
        #expect(d.vmstat["thp_collapse_alloc"] == 2)
        #expect(d.khugepaged["full_scans"] == 2)
        #expect(d.meminfo["MemAvailable"] == nil)
    }
}

@Suite struct MountTableTests {
    @Test func hugeOptionOfTmpfsMounts() throws {
        let text = try Fixture.text("mounts-6.18.txt")
        #expect(MountTable.hugeOption(of: "/dev/shm/thplab-1", mountsText: text) == "never")
        #expect(MountTable.hugeOption(of: "/tmp/thplab-6580-tmpfs/thplab-6580-object", mountsText: text) == "always")
        #expect(MountTable.hugeOption(of: "/work/x", mountsText: text) == nil)
    }

    @Test func longestPrefixWins() {
        let mounts = MountTable.parse("a / ext4 rw 0 0\nb /dev/shm tmpfs rw,huge=within_size 0 0\nc /dev/shmx tmpfs rw 0 0\n")
        #expect(MountTable.mount(containing: "/dev/shm/f", in: mounts)?.source == "b")
        #expect(MountTable.mount(containing: "/dev/shmx/f", in: mounts)?.source == "c")
        #expect(MountTable.mount(containing: "/dev/sh", in: mounts)?.source == "a")
    }
}

@Suite struct KernelVersionTests {
    @Test(arguments: [("6.18.44-fc-v595", KernelVersion(6, 18, 44)), ("6.1.0-28-amd64", KernelVersion(6, 1, 0)), ("5.4", KernelVersion(5, 4, 0))])
    func parses(release: String, version: KernelVersion) {
        #expect(KernelVersion(release: release) == version)
    }

    @Test func ordersNumerically() {
        #expect(KernelVersion(6, 6) > KernelVersion(6, 1, 158))
        #expect(KernelVersion(6, 18) > KernelVersion(6, 6))
        #expect(KernelVersion(release: "garbage") == nil)
    }

    @Test func configParsing() {
        let o = KernelConfig.parse("# CONFIG_READ_ONLY_THP_FOR_FS is not set\nCONFIG_TRANSPARENT_HUGEPAGE=y\nCONFIG_X=\"a=b\"\n")
        let c = KernelConfig(options: o, source: "test")
        #expect(c.isSet("CONFIG_TRANSPARENT_HUGEPAGE") == true)
        #expect(c.isSet("CONFIG_READ_ONLY_THP_FOR_FS") == false)
        #expect(o["CONFIG_X"] == "\"a=b\"")
        #expect(KernelConfig(options: [:], source: nil).isSet("CONFIG_X") == nil)
    }
}

@Suite struct SizeParserTests {
    @Test(arguments: [("4M", 4 << 20), ("2m", 2 << 20), ("512K", 512 << 10), ("1G", 1 << 30), ("4096", 4096), ("2MiB", 2 << 20)])
    func parses(text: String, bytes: Int) throws {
        #expect(try SizeParser.parse(text) == bytes)
    }

    @Test(arguments: ["", "abc", "-4M", "4X", "M"])
    func rejects(text: String) {
        #expect(throws: THPLabError.self) { try SizeParser.parse(text) }
    }
}
