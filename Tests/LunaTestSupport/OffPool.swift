import Foundation

/// Runs `body` on a thread of its own and awaits it, so that a long blocking recording, replay
/// or fuzzing run does not hold one of the few threads that every other test's tasks share
/// (two on a two-core machine: two blocking tests would stall every `Task.sleep` and every
/// continuation of the whole test process until they finish).
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        Thread { c.resume(with: Result { try body() }) }.start()
    }
}

/// `offPool` for a body that cannot throw.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
        Thread { c.resume(returning: body()) }.start()
    }
}
