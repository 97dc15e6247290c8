/// Lets a blocked socket wait notice that its process was killed (or died from a link).
///
/// A process's networking calls bind `isCancelled` for their duration (a task-local, which in
/// plain threads is thread-local); `SocketDescriptor.wait` then polls in slices of
/// `pollSlice` and gives up with `NetworkIOError.cancelled`, which the process turns into
/// `ProcessTerminated`. Without a binding, waits are uninterrupted.
enum NetworkCancellation {
    @TaskLocal static var isCancelled: (@Sendable () -> Bool)? = nil

    /// The longest a poll sleeps between cancellation checks, in milliseconds.
    static let pollSlice: Int32 = 50
}
