import Testing
@testable import THPLab

/// Format files of the running kernels: 6.18 (host) and Debian's 6.1.
@Suite struct TraceFormatTests {
    @Test(arguments: ["6.18", "6.1"])
    func scanFileFormat(release: String) throws {
        let f = TraceFormat.parse(try Fixture.text("format-mm_khugepaged_scan_file-\(release).txt"))
        #expect(f.name == "mm_khugepaged_scan_file")
        #expect(f.id != nil)
        #expect(f.fields == ["mm", "pfn", "filename", "present", "swap", "result"])
        #expect(f.resultNames[1] == "succeeded")
        #expect(f.resultNames[5] == "exceed_none_pte")
        #expect(f.resultNames.values.contains("pte_mapped_hugepage"))
        #expect(f.resultNames.count > 20)
    }

    @Test func resultsWereRenumberedIn618() throws {
        let new = TraceFormat.parse(try Fixture.text("format-mm_khugepaged_scan_file-6.18.txt")).resultNames
        let old = TraceFormat.parse(try Fixture.text("format-mm_khugepaged_scan_file-6.1.txt")).resultNames
        #expect(old[11] == "no_writable_page")
        #expect(new[11] != old[11])
        #expect(!new.values.contains("no_writable_page"))
    }

    @Test func anonymousEventsToo() throws {
        let pmd = TraceFormat.parse(try Fixture.text("format-mm_khugepaged_scan_pmd-6.1.txt"))
        #expect(pmd.fields.contains("writable"), "6.1 still has the writable field")
        #expect(pmd.resultNames[1] == "succeeded")
        let collapse = TraceFormat.parse(try Fixture.text("format-mm_collapse_huge_page-6.1.txt"))
        #expect(collapse.fields.contains("isolated"))
    }

    @Test func meaningsByName() {
        #expect(ScanResultMeaning.of("exceed_none_pte").contains("max_ptes_none"))
        #expect(ScanResultMeaning.of("something_new") == "something_new")
    }
}
