/// What every experiment's options share: the memory and where it lives,
/// the processes, the trigger, the wait and the trace. Each experiment's
/// options hold one of these beside their own fields, and both parts
/// encode into the same JSON object (the keys as they always were).
/// Defaults live in the property initialisers and the experiments' own
/// `init()`; a result written by an older thplab is filled from them when
/// it is read (`ResultFile`), so no decoder is written by hand.
public struct ExperimentOptions: Codable, Equatable, Sendable {
    public var backing: Backing = .memfd
    public var tmpfsHuge: TmpfsHuge = .advise
    /// Directory for the `file` backing.
    public var directory: String = "."
    /// thplab itself plus `processes - 1` workers.
    public var processes: Int
    public var trigger: Trigger
    /// Bound on the khugepaged wait.
    public var timeoutSeconds: Int = 60
    /// Wait the whole bound even when no collapse is expected (by default
    /// the wait ends once khugepaged passed over its list twice).
    public var fullWait = false
    /// Show other processes' huge_memory events too.
    public var allEvents = false

    enum CodingKeys: String, CodingKey {
        case backing, tmpfsHuge = "tmpfs_huge", directory, processes, trigger, timeoutSeconds = "timeout_seconds"
        case fullWait = "full_wait", allEvents = "all_events"
    }

    public init(processes: Int, trigger: Trigger) {
        self.processes = processes
        self.trigger = trigger
    }

    /// The checks every experiment makes (exit code 2).
    func validate(maxProcesses: Int) throws {
        guard (1...3600).contains(timeoutSeconds) else { throw THPLabError.usage("--timeout must be from 1 to 3600 seconds") }
        guard (1...maxProcesses).contains(processes) else {
            throw THPLabError.usage("--processes must be from 1 to \(maxProcesses) (1 means thplab alone, no worker)")
        }
        if backing == .file && !Sys.isDirectory(directory) {
            throw THPLabError.usage("--dir \(directory) does not exist or is not a directory")
        }
    }
}

/// Options made of the shared group and a part of their own: both encode
/// into one JSON object, and either part's fields read as the whole's.
public protocol ComposedOptions: Codable {
    associatedtype Own: Codable
    var common: ExperimentOptions { get set }
    var own: Own { get set }
    init(common: ExperimentOptions, own: Own)
}

extension ComposedOptions {
    public init(from decoder: Decoder) throws {
        self.init(common: try ExperimentOptions(from: decoder), own: try Own(from: decoder))
    }

    public func encode(to encoder: Encoder) throws {
        try common.encode(to: encoder)
        try own.encode(to: encoder)
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<ExperimentOptions, T>) -> T {
        get { common[keyPath: path] }
        set { common[keyPath: path] = newValue }
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<Own, T>) -> T {
        get { own[keyPath: path] }
        set { own[keyPath: path] = newValue }
    }
}
