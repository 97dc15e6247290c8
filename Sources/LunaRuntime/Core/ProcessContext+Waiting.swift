import LunaSupport
import Synchronization
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ProcessContext {
    /// Suspends the calling native task until `spec` is satisfied, the timeout passes, or the
    /// process is terminated. A message already queued is taken without waiting. The return
    /// (message or timeout) is recorded as `returnEvent` (tracing) under the mailbox lock when
    /// the wait ends; an end by termination records nothing here. `returnEvent` is evaluated
    /// only when tracing, so an untraced wait moves no event around.
    ///
    /// With `lockHeld`, the caller holds the mailbox lock and has just found no queued match
    /// (receive's fast path): the wait goes on under that lock, which it releases, so a wait
    /// takes the lock once. Nothing suspends before the continuation's closure runs (no hop:
    /// see below), so the lock is released on the thread that took it, before anything else
    /// runs there.
    nonisolated(nonsending) package func waitAsync(
        _ spec: WaitSpec, timeoutMs: UInt64, lockHeld: Bool = false,
        returnEvent: @autoclosure () -> PendingEvent?
    ) async -> WaitOutcome {
        let mb = mailbox
        let deadline: UInt64? = timeoutMs == .max ? nil : MonotonicClock.deadline(afterMs: timeoutMs)
        let env = environment
        // The executor-inheriting variant: `withUnsafeContinuation(isolation:)` hops to its
        // isolation before running the closure, and each hop of a task with an executor
        // preference looks the preference up under the task's status record lock. Here the
        // caller's executor is already the right one.
        await _unsafeInheritExecutor_withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            if !lockHeld { mb.lock.lock() }
            if mb.closed {
                mb.outcome = .terminated
                mb.lock.unlock()
                c.resume()
                return
            }
            if !lockHeld, let i = mb.firstMatch(spec) {
                let m = mb.queue.remove(at: i)
                if mb.sink != nil { mb.recordReturn(returnEvent(), m) }
                mb.outcome = .message(m)
                mb.lock.unlock()
                c.resume()
                return
            }
            mb.outcome = .pending
            mb.wait = spec
            mb.continuation = c
            mb.threadWaiting = false
            if mb.sink != nil { mb.returnEvent = returnEvent() }
            mb.generation &+= 1
            let g = mb.generation
            mb.lock.unlock()
            if let deadline { env.executor.armTimer(deadline: deadline, target: mb, generation: g) }
        }
        // The waker set `outcome` under the lock before resuming us, and no one else touches
        // it while `wait` is `.none`.
        let o = mb.outcome
        mb.outcome = .pending
        return o
    }

    /// Blocks the calling thread until `spec` is satisfied, the timeout passes, or the process
    /// is terminated. The return is recorded as for `waitAsync`.
    package func waitBlocking(
        _ spec: WaitSpec, timeoutMs: UInt64, returnEvent: @autoclosure () -> PendingEvent?,
        sleepEvent: @autoclosure () -> PendingEvent? = nil
    ) -> WaitOutcome {
        let mb = mailbox
        let deadline: UInt64? = timeoutMs == .max ? nil : MonotonicClock.deadline(afterMs: timeoutMs)
        mb.lock.lock()
        if mb.closed { mb.lock.unlock(); return .terminated }
        if let i = mb.firstMatch(spec) {
            let m = mb.queue.remove(at: i)
            if mb.sink != nil { mb.recordReturn(returnEvent(), m) }
            mb.lock.unlock()
            return .message(m)
        }
        mb.outcome = .pending
        mb.wait = spec
        mb.continuation = nil
        mb.threadWaiting = true
        mb.waitEnded.store(false, ordering: .relaxed)
        if mb.sink != nil {
            mb.returnEvent = returnEvent()
            mb.sleepEvent = sleepEvent()
        }
        mb.generation &+= 1
        if timeoutMs > 0 {
            // A reply often comes within microseconds; sleeping on the condition and being woken
            // costs 5-50 µs of thread hand-off. Spin briefly before sleeping.
            mb.lock.unlock()
            if Self.spin(until: mb.waitEnded, deadline: deadline, state: &mb.spinState) {
                // The waker wrote `outcome` and cleared `wait` before setting `waitEnded`, and
                // touches no waiter field after it; no one else ends a wait that is over. So
                // the outcome is ours without taking the lock again (which the waker may still
                // hold: taking it would sleep on the mutex).
                mb.threadWaiting = false
                let o = mb.outcome
                mb.outcome = .pending
                return o
            }
            mb.lock.lock()
        }
        while case .pending = mb.outcome {
            if let deadline, MonotonicClock.now() >= deadline {
                mb.recordReturn(mb.returnEvent, nil)
                _ = mb.finishWait(.timeout)
                break
            }
            mb.lock.wait(untilMonotonicNs: deadline)
        }
        mb.threadWaiting = false
        let o = mb.outcome
        mb.outcome = .pending
        mb.lock.unlock()
        return o
    }

    /// Longest spin (busy, then yielding) before a thread waiter sleeps.
    static let spinNanos: UInt64 = 50_000

    /// Spins until `flag` is set (true), `spinNanos` pass or `deadline` (false).
    ///
    /// First a busy spin of `state`'s adaptive budget: when the peer runs on another CPU a
    /// reply comes within a microsecond or two and is seen at once, while a `sched_yield`
    /// would hand the CPU to any other runnable thread (a build, say) for a whole time slice.
    /// When the peer shares this CPU (pinned, or crowded) a busy spin cannot succeed, so failed
    /// spins halve the budget down to nothing, and then only every `SpinState.probeEvery`-th
    /// wait tries a short one again. Then it yields between checks, which lets a peer on the
    /// same CPU run, until `spinNanos` have passed; then the caller sleeps on the condition.
    package static func spin(until flag: borrowing Atomic<Bool>, deadline: UInt64?, state: inout SpinState) -> Bool {
        if flag.load(ordering: .acquiring) { return true }
        var start: UInt64 = 0
        let busy = state.nextBudget()
        if busy > 0 {
            start = MonotonicClock.now()
            let busyEnd = min(start &+ busy, deadline ?? .max)
            var i = 0
            while !flag.load(ordering: .acquiring) {
                i &+= 1
                if i & 63 == 0, MonotonicClock.now() >= busyEnd { break }
            }
            if flag.load(ordering: .acquiring) {
                state.succeeded(afterNanos: MonotonicClock.now() &- start)
                return true
            }
            state.failed()
        }
        // The clock is read every 4th yield only: with the peer on this CPU the first yield
        // usually ends the wait, and each clock read costs as much as the flag checks.
        var end: UInt64 = 0
        var i = 0
        while !flag.load(ordering: .acquiring) {
            i &+= 1
            if i & 15 == 0 {
                if i & 63 == 0 {
                    let now = MonotonicClock.now()
                    if end == 0 {
                        end = (start == 0 ? now : start) &+ spinNanos
                        if let deadline, deadline < end { end = deadline }
                    }
                    if now >= end { return false }
                }
                sched_yield()
            }
        }
        return true
    }
}

/// A thread waiter's busy-spin budget, adapted to whether busy spins have been paying off
/// (owner thread only).
package struct SpinState {
    /// Current busy-spin budget in ns (0: only probes).
    var budget: UInt64 = SpinState.initialNanos
    /// Waits since the budget dropped to 0.
    var idleWaits: UInt32 = 0

    package init() {}

    static let initialNanos: UInt64 = 4_000
    /// Upper bound of the budget.
    static let maxNanos: UInt64 = 20_000
    /// A budget below this is dropped to 0.
    static let minNanos: UInt64 = 500
    /// With no budget, every this many waits spin `initialNanos` once to see whether the peer
    /// moved to another CPU.
    static let probeEvery: UInt32 = 128

    /// The busy spin to try for this wait.
    @inline(__always)
    mutating func nextBudget() -> UInt64 {
        if budget > 0 { return budget }
        idleWaits &+= 1
        if idleWaits % SpinState.probeEvery == 0 { return SpinState.initialNanos }
        return 0
    }

    /// A busy spin saw the wake-up after `t` ns: allow twice that (and some) from now on.
    @inline(__always)
    mutating func succeeded(afterNanos t: UInt64) {
        budget = min(SpinState.maxNanos, max(budget, 2 &* t &+ SpinState.minNanos))
    }

    /// A busy spin ran out: halve the budget.
    @inline(__always)
    mutating func failed() {
        budget /= 2
        if budget < SpinState.minNanos { budget = 0 }
    }
}
