#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lets a blocked socket wait notice that its process was killed (or died from a link).
///
/// A process's networking calls bind a cancellation check for their duration with
/// `withCheck(_:_:)`; `SocketDescriptor.wait` then polls in slices of `pollSlice` and gives up
/// with `NetworkIOError.cancelled`, which the process turns into `ProcessTerminated`. Without a
/// binding, waits are uninterrupted.
///
/// The binding is a POSIX thread-specific value, not a `@TaskLocal`: guests run on plain threads,
/// and pushing a task-local there crashed release builds (`swift_task_localValuePush` on a thread
/// with no task). A thread-specific slot works on any thread, in a task or not.
enum NetworkCancellation {
    /// The longest a poll sleeps between cancellation checks, in milliseconds.
    static let pollSlice: Int32 = 50

    /// Holds one binding; the slot stores it unretained while `withCheck` keeps it alive.
    private final class Binding {
        let isCancelled: @Sendable () -> Bool
        init(_ isCancelled: @escaping @Sendable () -> Bool) { self.isCancelled = isCancelled }
    }

    /// The thread-specific slot of the current binding (created once, never deleted).
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    /// The check bound on this thread, if any.
    static var isCancelled: (@Sendable () -> Bool)? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<Binding>.fromOpaque(raw).takeUnretainedValue().isCancelled
    }

    /// Runs `body` with `check` bound on this thread, restoring the previous binding after.
    static func withCheck<R, E: Error>(
        _ check: @escaping @Sendable () -> Bool, _ body: () throws(E) -> R
    ) throws(E) -> R {
        let binding = Binding(check)
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(binding).toOpaque())
        defer {
            pthread_setspecific(key, previous)
            withExtendedLifetime(binding) {}
        }
        return try body()
    }
}
