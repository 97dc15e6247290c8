import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a spin lock: one atomic compare-exchange to lock and a plain releasing
/// store to unlock. `TraceWriter.record` takes it once per event, almost always uncontended
/// (native processes all run on one executor thread), where a pthread mutex costs two atomic
/// read-modify-writes and two library calls, and `Synchronization.Mutex` more still on Linux
/// (docs/BENCHMARKS.md, "Cost figures behind choices in the code").
/// A waiter spins briefly, then yields its CPU, then sleeps in short naps, so a holder that
/// waits (a writer whose background queue is full) does not make the others burn a CPU.
///
/// @unchecked Sendable: `value` is only reached inside `withLock`, which holds the lock
/// (acquiring on lock, releasing on unlock, so its writes are seen by the next holder).
/// Exclusivity checks are off for `value` for the same reason: the lock serialises access.
final class Locked<Value>: @unchecked Sendable {
    private let held = Atomic<Bool>(false)
    @exclusivity(unchecked) private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value. Not reentrant.
    @inline(__always)
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        if !held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            waitForLock()
        }
        defer { held.store(false, ordering: .releasing) }
        return try body(&value)
    }

    @inline(never)
    private func waitForLock() {
        var attempts = 0
        while true {
            if !held.load(ordering: .relaxed),
                held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
            {
                return
            }
            attempts += 1
            if attempts < 64 { continue }
            if attempts < 1_000 { sched_yield() } else { usleep(50) }
        }
    }
}
