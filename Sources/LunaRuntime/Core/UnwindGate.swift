import Foundation
import LunaSupport

/// Lets the threads of processes that died while parked in a wait unwind a few at a time.
///
/// A process killed (or dead from a link) while its thread sleeps in `receive` has its end
/// published by whoever decided the death (`Environment.publishParkedEnd`): exit recorded,
/// messages and resources released, waiters resumed. Its thread has nothing left to do but
/// unwind and free its instance, which takes about 100 µs of CPU. Waking every such thread at
/// once, as a mass kill would, fills the run queues with them: the killer, sharing the CPUs
/// with thousands of unwinding threads, was descheduled for milliseconds at a time (a kill of
/// 10,000 parked guests took 1.2–1.8 s, nearly all of it in a few hundred stalled kill calls).
/// So such a thread is woken here, at most `limit` at a time (one CPU left to the rest), each
/// admitting the next when it has unwound.
///
/// Nothing an admitted thread does waits for a thread still queued here: its process's end
/// and all it held were released before it was queued, so the chain cannot deadlock. A queued
/// thread that wakes by itself (its receive's timeout, a spurious wake-up) unwinds at once and
/// is skipped when its turn comes.
package final class UnwindGate: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `active` and each queued mailbox's `gateState` are guarded
    // by `lock`.

    /// The gate of all environments (the CPUs are shared by all of them).
    package static let shared = UnwindGate(limit: max(1, ProcessInfo.processInfo.activeProcessorCount - 1))

    /// The most threads unwinding at once.
    package let limit: Int

    private let lock = ConditionLock()
    private var queue = RingBuffer<Mailbox>(capacity: 16)
    private var active = 0

    // `Mailbox.gateState` values.
    private static let waiting: UInt8 = 0
    private static let admitted: UInt8 = 1
    private static let gone: UInt8 = 2

    package init(limit: Int) { self.limit = limit }

    /// Queues the thread parked on `mailbox` (its end published, its outcome set) and wakes
    /// it now if fewer than `limit` are unwinding.
    package func admit(_ mailbox: Mailbox) {
        lock.lock()
        if mailbox.gateState == Self.gone {  // it woke by itself and has unwound already
            lock.unlock()
            return
        }
        guard active < limit else {
            queue.append(mailbox)
            lock.unlock()
            return
        }
        active += 1
        mailbox.gateState = Self.admitted
        lock.unlock()
        Self.wake(mailbox)
    }

    /// Called by the thread of `mailbox`'s process once it has unwound: frees its turn for
    /// the next queued thread, or marks it gone when it woke before its turn.
    package func unwound(_ mailbox: Mailbox) {
        lock.lock()
        guard mailbox.gateState == Self.admitted else {
            mailbox.gateState = Self.gone
            lock.unlock()
            return
        }
        var next: Mailbox?
        while let m = queue.popFirst() {
            if m.gateState == Self.waiting {
                m.gateState = Self.admitted
                next = m
                break
            }
        }
        if next == nil { active -= 1 }
        lock.unlock()
        if let next { Self.wake(next) }
    }

    /// Threads queued and not yet woken (for tests and benchmarks).
    package var queued: Int {
        lock.withLock {
            var n = 0
            for i in 0..<queue.count where queue[i].gateState == Self.waiting { n += 1 }
            return n
        }
    }

    /// Wakes the thread asleep on `mailbox`'s condition; its outcome was set under the lock.
    private static func wake(_ mailbox: Mailbox) {
        mailbox.lock.lock()
        mailbox.lock.signal()
        mailbox.lock.unlock()
    }
}
