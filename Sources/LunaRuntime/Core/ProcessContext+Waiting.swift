import Synchronization
import TraceFormat
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ProcessContext {
    /// Suspends the calling native task until `spec` is satisfied, the timeout passes, or the
    /// process is terminated. A message already queued is taken without waiting.
    nonisolated(nonsending) package func waitAsync(_ spec: WaitSpec, timeoutMs: UInt64, timeoutEvent: PendingEvent?) async -> WaitOutcome {
        let mb = mailbox
        let deadline: UInt64? = timeoutMs == .max ? nil : MonotonicClock.deadline(afterMs: timeoutMs)
        let env = environment
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            mb.lock.lock()
            if mb.closed {
                mb.outcome = .terminated
                mb.lock.unlock()
                c.resume()
                return
            }
            if let i = mb.firstMatch(spec) {
                mb.outcome = .message(mb.queue.remove(at: i))
                mb.lock.unlock()
                c.resume()
                return
            }
            mb.outcome = .pending
            mb.wait = spec
            mb.continuation = c
            mb.threadWaiting = false
            mb.timeoutEvent = timeoutEvent
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
    /// is terminated. A timeout is recorded (if tracing) under the mailbox lock.
    package func waitBlocking(_ spec: WaitSpec, timeoutMs: UInt64, timeoutEvent: PendingEvent?) -> WaitOutcome {
        let mb = mailbox
        let deadline: UInt64? = timeoutMs == .max ? nil : MonotonicClock.deadline(afterMs: timeoutMs)
        mb.lock.lock()
        defer { mb.lock.unlock() }
        if mb.closed { return .terminated }
        if let i = mb.firstMatch(spec) { return .message(mb.queue.remove(at: i)) }
        mb.outcome = .pending
        mb.wait = spec
        mb.continuation = nil
        mb.threadWaiting = true
        mb.waitEnded.store(false, ordering: .relaxed)
        mb.timeoutEvent = timeoutEvent
        mb.generation &+= 1
        if timeoutMs > 0 {
            // A reply often comes within microseconds; sleeping on the condition and being woken
            // costs 5-50 µs of thread hand-off. Spin briefly (yielding the CPU, so a peer on the
            // same CPU can run) before sleeping.
            mb.lock.unlock()
            Self.spin(until: mb.waitEnded, deadline: deadline)
            mb.lock.lock()
        }
        while case .pending = mb.outcome {
            if let deadline, MonotonicClock.now() >= deadline {
                if var e = mb.timeoutEvent?.event, let trace {
                    e.end = now()
                    trace.record(e)
                }
                _ = mb.finishWait(.timeout)
                break
            }
            mb.lock.wait(untilMonotonicNs: deadline)
        }
        mb.threadWaiting = false
        let o = mb.outcome
        mb.outcome = .pending
        return o
    }

    /// Longest spin before a thread waiter sleeps.
    static let spinNanos: UInt64 = 50_000

    /// Spins until `flag` is set, `spinNanos` pass, or `deadline`.
    static func spin(until flag: borrowing Atomic<Bool>, deadline: UInt64?) {
        let start = MonotonicClock.now()
        var end = start &+ spinNanos
        if let deadline, deadline < end { end = deadline }
        var i = 0
        while !flag.load(ordering: .acquiring) {
            i &+= 1
            if i & 15 == 0 {
                if MonotonicClock.now() >= end { return }
                sched_yield()
            }
        }
    }
}
