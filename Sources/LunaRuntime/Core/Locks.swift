#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with a condition variable on the monotonic clock, for the runtime's own
/// short critical sections. Not copyable as a value: the class owns the heap cells.
package final class ConditionLock: @unchecked Sendable {
    // @unchecked Sendable: the pthread objects are designed for use from many threads; the
    // pointers themselves are immutable after init and freed only in deinit.
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

    deinit {
        pthread_cond_destroy(cond); cond.deallocate()
        pthread_mutex_destroy(mutex); mutex.deallocate()
    }

    @inline(__always) package func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) package func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` holding the lock.
    @inline(__always)
    package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Wakes one waiter.
    @inline(__always) package func signal() { pthread_cond_signal(cond) }
    /// Wakes all waiters.
    @inline(__always) package func broadcast() { pthread_cond_broadcast(cond) }

    /// Waits (lock held) until signalled or until the monotonic clock reaches `deadline` ns
    /// (`nil` = no deadline). Spurious wake-ups happen: callers re-check their condition.
    package func wait(untilMonotonicNs deadline: UInt64?) {
        guard let deadline else { pthread_cond_wait(cond, mutex); return }
        #if canImport(Glibc)
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_cond_timedwait(cond, mutex, &ts)
        #else
        let now = MonotonicClock.now()
        let rel = deadline > now ? deadline - now : 0
        var ts = timespec(tv_sec: Int(rel / 1_000_000_000), tv_nsec: Int(rel % 1_000_000_000))
        pthread_cond_timedwait_relative_np(cond, mutex, &ts)
        #endif
    }
}

/// The monotonic clock, in nanoseconds.
package enum MonotonicClock {
    @inline(__always)
    package static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// `now() + ms` milliseconds, saturating.
    package static func deadline(afterMs ms: UInt64) -> UInt64 {
        let (ns, o1) = ms.multipliedReportingOverflow(by: 1_000_000)
        let (d, o2) = now().addingReportingOverflow(ns)
        return (o1 || o2) ? UInt64.max : d
    }
}

/// Starts a detached OS thread running `body`; false when the OS refuses a thread.
@discardableResult
package func startThread(stackSize: Int, name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box: @unchecked Sendable {
        // @unchecked Sendable: handed once to the new thread and only read there.
        let body: @Sendable () -> Void
        let name: String
        init(_ b: @escaping @Sendable () -> Void, _ n: String) { body = b; name = n }
    }
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setstacksize(&attr, stackSize)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    let box = Unmanaged.passRetained(Box(body, name)).toOpaque()
    #if canImport(Glibc)
    var tid = pthread_t()
    #else
    var tid: pthread_t?
    #endif
    let rc = pthread_create(&tid, &attr, { raw in
        let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attr)
    if rc != 0 { Unmanaged<AnyObject>.fromOpaque(box).release() }
    return rc == 0
}
