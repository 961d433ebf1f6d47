import Foundation

/// A value shared between threads, behind a lock.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    /// Changes the value in place, under the lock.
    func update<R>(_ change: (inout T) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try change(&value)
    }
}
