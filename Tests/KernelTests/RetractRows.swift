import Foundation
import Testing
@testable import THPLab

/// A `run retract` result as the kernel tests read it, on the host or from
/// a guest: its rows, and what the expectation model predicts for each on
/// the kernel that ran it.
enum RetractRows {
    struct Row {
        var role: String
        var pid: Int
        var triggerMapping: Bool
        var inTriggerProcess: Bool
        var phases: [String: [String: Any]]
        func state(_ phase: String) -> String? { phases[phase]?["state"] as? String }
        func kb(_ phase: String, _ key: String) -> Int { phases[phase]?[key] as? Int ?? -1 }
        func classes(_ phase: String) -> [String: Int] { phases[phase]?["classes_kb"] as? [String: Int] ?? [:] }
    }

    static func rows(_ json: [String: Any]) -> [Row] {
        (json["mappings"] as? [[String: Any]] ?? []).map {
            Row(role: $0["role"] as? String ?? "", pid: $0["pid"] as? Int ?? 0,
                triggerMapping: $0["trigger_mapping"] as? Bool ?? false,
                inTriggerProcess: $0["in_trigger_process"] as? Bool ?? false,
                phases: $0["phases"] as? [String: [String: Any]] ?? [:])
        }
    }

    /// What the expectation model knows of this run: the running kernel,
    /// its config, and the shmem setting in force (the knobs before the run
    /// with thplab's own changes on top; the mount's huge= for tmpfs/shm).
    static func context(_ json: [String: Any]) throws -> ExpectationContext {
        let release = try #require(json["kernel_release"] as? String)
        let backing = try #require(Backing(rawValue: json["backing"] as? String ?? ""))
        let trigger = try #require(Trigger(rawValue: json["trigger"] as? String ?? ""))
        var knobs = (json["knobs_before"] as? [String: String] ?? [:]).mapValues { SysfsValue(current: $0) }
        for change in json["knobs_changed"] as? [[String: Any]] ?? [] {
            if let name = change["name"] as? String, let to = change["to"] as? String { knobs[name] = SysfsValue(current: to) }
        }
        let options = json["options"] as? [String: Any] ?? [:]
        let mountHuge = (json["object"] as? [String: Any])?["mount_huge"] as? String
        return ExpectationContext(kernel: try #require(KernelVersion(release: release)), backing: backing, trigger: trigger,
                                  readOnlyThpForFS: KernelConfig.load(release: release).isSet("CONFIG_READ_ONLY_THP_FOR_FS"),
                                  shmemHuge: KnobPlan.effectiveShmemHuge(knobs: knobs, backing: backing, mountHuge: mountHuge),
                                  madviseTimes: options["madvise_times"] as? Int ?? 2)
    }

    /// The state the model predicts for a row after every page was touched again.
    static func expected(_ row: Row, _ c: ExpectationContext) throws -> String {
        let role = try #require(MappingRole(rawValue: row.role), "unknown role \(row.role)")
        return ExpectationModel.expect(role: role, inTriggerProcess: row.inTriggerProcess, isTriggerMapping: row.triggerMapping, c).state.rawValue
    }

}
