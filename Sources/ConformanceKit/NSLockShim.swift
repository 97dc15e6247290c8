import Foundation

/// A plain mutex with a scoped `locked` helper.
final class NSLockShim: @unchecked Sendable {  // NSLock is thread-safe by design
    private let lock = NSLock()
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
