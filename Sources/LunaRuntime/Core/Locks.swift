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

/// Starts a detached OS thread named `name` running `body`; false when the OS refuses a thread.
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
        nameCurrentThread(box.name)
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attr)
    if rc != 0 { Unmanaged<AnyObject>.fromOpaque(box).release() }
    return rc == 0
}

/// Names the calling thread (Linux keeps 15 bytes), so that profiles (`perf report --sort comm`)
/// tell the threads apart. Glibc's `pthread_setname_np` needs `_GNU_SOURCE`, which the Glibc
/// module does not define, so it is looked up once at run time.
package func nameCurrentThread(_ name: String) {
    #if canImport(Glibc)
    typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    guard let setName = UnsafeRawPointer(bitPattern: setThreadNameAddress) else { return }
    let short = String(decoding: name.utf8.prefix(15), as: UTF8.self)
    _ = unsafeBitCast(setName, to: SetName.self)(pthread_self(), short)
    #else
    _ = pthread_setname_np(name)
    #endif
}

#if canImport(Glibc)
/// The address of `pthread_setname_np` in the C library, if present (an integer, to be Sendable).
private let setThreadNameAddress = UInt(bitPattern: dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np"))
#endif
