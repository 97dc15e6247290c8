import LunaSupport
import Synchronization
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
///
/// Stopping is cheap for the caller however many guests are being stopped (a host killing
/// thousands at once, under the environment lock): `stop` writes the fuel, appends the target
/// and wakes the thread only when it was idle, so the thread makes one round per millisecond
/// (a fuel write per target, under the lock) rather than one per `stop`.
package final class GuestInterrupter: @unchecked Sendable {
    // @unchecked Sendable: every field is read and written under `lock`; a target's store is
    // touched from here only while its run has not ended (`Target.ended`, under `lock`).

    /// The interrupter every environment shares.
    package static let shared = GuestInterrupter()

    /// One running guest's store, registered for the duration of its run.
    package final class Target: @unchecked Sendable {
        // @unchecked Sendable: `ended`, `requested` and `slot` only under the interrupter's
        // lock; the store is only written by the interrupter while `ended` is false.
        fileprivate let store: Store
        fileprivate var ended = false
        fileprivate var requested = false
        /// Its index in `stopping` while it is there.
        fileprivate var slot = -1
        init(store: Store) { self.store = store }
    }

    private let lock = ConditionLock()
    /// The targets asked to stop whose runs have not ended, in no order (removal swaps the
    /// last one into the freed slot).
    private var stopping: [Target] = []
    private var threadStarted = false

    /// Asks the guest running on `target` to stop at its next fuel charge (no effect once its
    /// run has ended).
    package func stop(_ target: Target) {
        lock.lock()
        guard !target.ended, !target.requested else { lock.unlock(); return }
        target.requested = true
        target.store.fuel = Fuel(remaining: 0)
        target.slot = stopping.count
        stopping.append(target)
        if !threadStarted {
            threadStarted = true
            _ = startThread(stackSize: 256 * 1024, name: "luna-interrupter") { self.repeatStops() }
        }
        // The thread waits without a deadline only when there was nothing to repeat.
        if stopping.count == 1 { lock.signal() }
        lock.unlock()
    }

    /// The run on `target` has ended: its store is never touched again.
    package func ended(_ target: Target) {
        lock.lock()
        target.ended = true
        remove(target)
        lock.unlock()
    }

    /// Takes `target` out of `stopping` (lock held).
    private func remove(_ target: Target) {
        let i = target.slot
        guard i >= 0 else { return }
        let last = stopping.removeLast()
        if last !== target {
            stopping[i] = last
            last.slot = i
        }
        target.slot = -1
    }

    /// Writes 0 into every target's fuel (lock held; released briefly between bursts).
    ///
    /// A guest running at full speed rewrites its fuel at nearly every instruction, so one
    /// write of 0 almost always lands between a charge's read and its write and is lost:
    /// measured, a looping guest on its CPU ignored 3–87 successive rounds of one write a
    /// millisecond apart (kill → trap up to 93 ms) while the interrupter ran every round. So,
    /// while few guests are being stopped, the writes repeat back to back for `burstNanos`
    /// (fenced, so the compiler keeps every one), and one lands where the next charge reads it.
    private func writeZeros() {
        guard stopping.count <= Self.burstTargets else {
            for t in stopping { t.store.fuel = Fuel(remaining: 0) }
            return
        }
        let end = MonotonicClock.now() &+ Self.burstNanos
        repeat {
            for _ in 0..<32 {
                for t in stopping { t.store.fuel = Fuel(remaining: 0) }
                atomicMemoryFence(ordering: .sequentiallyConsistent)
            }
            lock.unlock()  // lets a stopped guest's `ended` in
            lock.lock()
        } while !stopping.isEmpty && MonotonicClock.now() < end
    }

    /// How long each round's back-to-back writes last, and up to how many targets they are
    /// made for (beyond that, one write per target per round, as a mass kill of running
    /// guests would otherwise keep a CPU busy).
    private static let burstNanos: UInt64 = 50_000
    private static let burstTargets = 256

    /// Every millisecond while some target is being stopped, writes 0 into each one's fuel
    /// again.
    private func repeatStops() {
        lock.lock()
        while true {
            if stopping.isEmpty {
                lock.wait(untilMonotonicNs: nil)
                continue
            }
            writeZeros()
            let next = MonotonicClock.now() &+ 1_000_000
            while !stopping.isEmpty && MonotonicClock.now() < next { lock.wait(untilMonotonicNs: next) }
        }
    }
}
