#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with a condition variable on the monotonic clock, as two raw heap cells.
/// A plain value: the owner calls `destroy()` exactly once, when no one can use it any more.
package struct RawConditionLock: @unchecked Sendable {
    // @unchecked Sendable: the pthread objects are designed for use from many threads; the
    // pointers are immutable and freed only by the owner's `destroy()`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    /// Frees the cells (owner's deinit).
    package func destroy() {
        pthread_cond_destroy(cond); cond.deallocate()
        pthread_mutex_destroy(mutex); mutex.deallocate()
    }

    @inline(__always) package func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) package func unlock() { pthread_mutex_unlock(mutex) }
    /// Wakes one waiter.
    @inline(__always) package func signal() { pthread_cond_signal(cond) }
    /// Wakes all waiters.
    @inline(__always) package func broadcast() { pthread_cond_broadcast(cond) }

    /// Waits (lock held) until signalled or until the monotonic clock reaches `deadline` ns
    /// (`nil` = no deadline). Spurious wake-ups happen: callers re-check their condition.
    package func wait(untilMonotonicNs deadline: UInt64?) {
        guard let deadline else { pthread_cond_wait(cond, mutex); return }
        #if canImport(Glibc)
        let d = min(deadline, UInt64(Int64.max / 2))
        var ts = timespec(tv_sec: Int(d / 1_000_000_000), tv_nsec: Int(d % 1_000_000_000))
        pthread_cond_timedwait(cond, mutex, &ts)
        #else
        let now = MonotonicClock.now()
        let rel = deadline > now ? min(deadline - now, UInt64(Int64.max / 2)) : 0
        var ts = timespec(tv_sec: Int(rel / 1_000_000_000), tv_nsec: Int(rel % 1_000_000_000))
        pthread_cond_timedwait_relative_np(cond, mutex, &ts)
        #endif
    }
}

/// A `RawConditionLock` owned by an object (freed with it).
package final class ConditionLock: @unchecked Sendable {
    // @unchecked Sendable: see RawConditionLock; `raw` is immutable.
    package let raw = RawConditionLock()
    package init() {}
    deinit { raw.destroy() }

    @inline(__always) package func lock() { raw.lock() }
    @inline(__always) package func unlock() { raw.unlock() }
    /// Runs `body` holding the lock.
    @inline(__always)
    package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        raw.lock()
        defer { raw.unlock() }
        return try body()
    }
    @inline(__always) package func signal() { raw.signal() }
    @inline(__always) package func broadcast() { raw.broadcast() }
    package func wait(untilMonotonicNs deadline: UInt64?) { raw.wait(untilMonotonicNs: deadline) }
}
