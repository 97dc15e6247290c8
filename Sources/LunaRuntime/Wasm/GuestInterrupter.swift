import LunaSupport
import WasmKit

/// Stops guests that are executing WebAssembly code (not blocked in a host call) when their
/// process is killed or dies from a link.
///
/// WasmKit 0.4.2 has no interruption hook (no epoch, no interrupt flag, no callback while
/// executing): the only thing a running instance checks is its store's fuel
/// (`Execution.consumeFuel`, charged at every region of straight-line code, so at each loop
/// iteration and call). Guests therefore run on a fuel-metered engine with an unlimited budget
/// (or their config's `max_fuel`), and stopping one sets its remaining fuel to 0 from another
/// thread: the guest traps out of fuel at its next charge, and `GuestProcess.run` turns that trap
/// into the death the process was given.
///
/// The interpreter charges with a plain read-modify-write of the fuel cell, so a 0 written
/// between its read and its write can be overwritten. A background thread therefore writes 0
/// again every millisecond for every guest being stopped, until that guest's run ends.
package final class GuestInterrupter: @unchecked Sendable {
    // @unchecked Sendable: every field is read and written under `lock`; a target's store is
    // touched from here only while its run has not ended (`Target.ended`, under `lock`).

    /// The interrupter every environment shares.
    package static let shared = GuestInterrupter()

    /// One running guest's store, registered for the duration of its run.
    package final class Target: @unchecked Sendable {
        // @unchecked Sendable: `ended` and `requested` only under the interrupter's lock; the
        // store is only written by the interrupter while `ended` is false.
        fileprivate let store: Store
        fileprivate var ended = false
        fileprivate var requested = false
        init(store: Store) { self.store = store }
    }

    private let lock = ConditionLock()
    private var stopping: [ObjectIdentifier: Target] = [:]
    private var threadStarted = false

    /// Asks the guest running on `target` to stop at its next fuel charge (no effect once its
    /// run has ended).
    package func stop(_ target: Target) {
        lock.lock()
        guard !target.ended, !target.requested else { lock.unlock(); return }
        target.requested = true
        target.store.fuel = Fuel(remaining: 0)
        stopping[ObjectIdentifier(target)] = target
        if !threadStarted {
            threadStarted = true
            _ = startThread(stackSize: 256 * 1024, name: "luna-interrupter") { self.repeatStops() }
        }
        lock.signal()
        lock.unlock()
    }

    /// The run on `target` has ended: its store is never touched again.
    package func ended(_ target: Target) {
        lock.lock()
        target.ended = true
        if target.requested { stopping[ObjectIdentifier(target)] = nil }
        lock.unlock()
    }

    /// Re-zeroes the fuel of every guest being stopped, every millisecond, while there are any.
    private func repeatStops() {
        lock.lock()
        while true {
            if stopping.isEmpty {
                lock.wait(untilMonotonicNs: nil)
                continue
            }
            for target in stopping.values { target.store.fuel = Fuel(remaining: 0) }
            lock.wait(untilMonotonicNs: MonotonicClock.now() &+ 1_000_000)
        }
    }
}
