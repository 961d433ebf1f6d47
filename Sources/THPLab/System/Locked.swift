import Glibc

/// A mutual-exclusion lock. The corresponding C type is `pthread_mutex_t`.
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}

/// A value shared between threads, behind a lock.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = Lock()
    init(_ v: T) { value = v }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    /// Changes the value in place, under the lock.
    func update<R>(_ change: (inout T) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try change(&value)
    }
}
