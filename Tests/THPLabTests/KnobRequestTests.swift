import Foundation
import Testing
@testable import THPLab

/// Knob names and values against a fake sysfs tree made from real files.
@Suite final class KnobRequestTests {
    let root: String
    let sysfs: THPSysfs

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("thplab-knobs-\(UUID().uuidString)").path
        let fm = FileManager.default
        for dir in ["khugepaged", "hugepages-2048kB", "hugepages-64kB"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        let files: [String: String] = [
            "enabled": try Fixture.text("sysfs/enabled.txt"),
            "shmem_enabled": try Fixture.text("sysfs/shmem_enabled.txt"),
            "defrag": try Fixture.text("sysfs/defrag.txt"),
            "khugepaged/max_ptes_none": "511\n",
            "khugepaged/scan_sleep_millisecs": "10000\n",
            "hugepages-2048kB/enabled": try Fixture.text("sysfs/hugepages-2048kB_enabled.txt"),
            "hugepages-2048kB/shmem_enabled": try Fixture.text("sysfs/hugepages-2048kB_shmem_enabled.txt"),
            "hugepages-64kB/enabled": try Fixture.text("sysfs/hugepages-64kB_enabled.txt"),
        ]
        for (name, text) in files { try text.write(toFile: root + "/" + name, atomically: false, encoding: .utf8) }
        sysfs = THPSysfs(root: root)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: root + "-state")
    }

    static let valid: [(String, String, String)] = [
        ("max_ptes_none=0", "khugepaged/max_ptes_none", "0"),
        ("khugepaged/max_ptes_none=511", "khugepaged/max_ptes_none", "511"),
        ("shmem_enabled=advise", "shmem_enabled", "advise"),
        ("enabled=never", "enabled", "never"),   // the exact name wins over hugepages-*/enabled
        ("hugepages-64kB/enabled=inherit", "hugepages-64kB/enabled", "inherit"),
        ("scan_sleep_millisecs = 100", "khugepaged/scan_sleep_millisecs", "100"),
    ]

    @Test(arguments: valid)
    func acceptsValidPairs(pair: String, name: String, value: String) throws {
        #expect(try KnobRequest.parse([pair], sysfs: sysfs) == [KnobRequest(name: name, value: value)])
    }

    static let invalid: [String] = [
        "max_ptes_none=512",            // out of range
        "max_ptes_none=-1",
        "max_ptes_none=lots",
        "shmem_enabled=sometimes",      // not among the file's options
        "hugepages-2048kB/shmem_enabled=deny",  // per-size knobs have no deny
        "nonsense=1",                   // unknown name
        "../enabled=always",            // path tricks
        "/sys/kernel/mm/transparent_hugepage/enabled=always",
        "khugepaged/../enabled=always",
        "khugepaged/full_scans=1",      // a counter, not a knob
        "=1",
        "max_ptes_none",
    ]

    @Test(arguments: invalid)
    func refusesInvalidPairs(pair: String) {
        let e = #expect(throws: THPLabError.self) { try KnobRequest.parse([pair], sysfs: sysfs) }
        #expect(e?.exitCode == 2, "\(pair): \(e?.description ?? "")")
    }

    @Test func ambiguousShortName() throws {
        let e = #expect(throws: THPLabError.self) {
            try KnobRequest.resolve("shmem_enabled", present: ["hugepages-64kB/shmem_enabled", "hugepages-2048kB/shmem_enabled"])
        }
        #expect(e?.message.contains("ambiguous") == true)
    }

    @Test func profileWithOneBadLineIsRefusedWhole() throws {
        let profile = "# a profile\nmax_ptes_none=64\n\nshmem_enabled=advise\nscan_sleep_millisecs=often\n"
        let e = #expect(throws: THPLabError.self) { try KnobProfile.load(profile, sysfs: sysfs) }
        #expect(e?.message.hasPrefix("line 5:") == true, "\(e?.message ?? "")")
        // Nothing was written by parsing: the files are as they were.
        #expect(try sysfs.read("khugepaged/max_ptes_none").current == "511")
        #expect(try sysfs.read("shmem_enabled").current == "never")
    }

    @Test func savedProfileLoadsBack() throws {
        let text = KnobProfile.format(sysfs.readAll(), release: "6.18.0")
        let requests = try KnobProfile.load(text, sysfs: sysfs)
        #expect(Set(requests.map(\.name)) == Set(sysfs.presentKnobs()))
        #expect(requests.first { $0.name == "shmem_enabled" }?.value == "never")
        #expect(throws: THPLabError.self) { try KnobProfile.pairs("ok=1\njunk line\n") }
    }

    @Test func persistentSetAndRestoreThroughTheGuard() throws {
        let state = root + "-state"
        let g = try HostGuard.acquire(command: "test", stateDir: state, sysfs: sysfs, log: { _ in })
        let changes = try g.setPersistently(try KnobRequest.parse(["max_ptes_none=64", "shmem_enabled=advise"], sysfs: sysfs))
        #expect(changes.map(\.old) == ["511", "never"])
        g.release()  // a release does not undo `knobs set`
        #expect(try sysfs.read("khugepaged/max_ptes_none").current == "64")
        let again = try HostGuard.acquire(command: "test", stateDir: state, sysfs: sysfs, log: { _ in })
        // A second set keeps the first original.
        _ = try again.setPersistently([KnobRequest(name: "khugepaged/max_ptes_none", value: "32")])
        #expect(again.persistentChanges().first { $0.name == "khugepaged/max_ptes_none" }?.original == "511")
        let lines = again.restorePersistent()
        again.release()
        #expect(lines.count == 2)
        #expect(try sysfs.read("khugepaged/max_ptes_none").current == "511")
        #expect(!FileManager.default.fileExists(atPath: state + "/knobs-set.json"))
    }
}
