import Foundation
import LunaSupport
import Synchronization

/// Lets the threads of processes that died while parked in a wait unwind a few at a time.
///
/// A process killed (or dead from a link) while its thread sleeps in a wait (receive,
/// skip-search, sleep) has its end published by whoever decided the death
/// (`Environment.publishParkedEnd`): exit recorded, messages and resources released, waiters
/// resumed. Its thread has nothing left to do but unwind and free its instance, which takes
/// about 100 µs of CPU. Waking every such thread at
/// once, as a mass kill would, fills the run queues with them: the killer, sharing the CPUs
/// with thousands of unwinding threads, was descheduled for milliseconds at a time (a kill of
/// 10,000 parked guests took 1.2–1.8 s, nearly all of it in a few hundred stalled kill calls).
/// So such a thread is woken here, at most `limit` at a time (one CPU left to the rest), each
/// admitting the next when it has unwound.
///
/// A queued thread still holds its stack and its instance. So that a program that kills many
/// processes and spawns many more does not hold both sets at once (10,000 of each exhausted
/// the kernel's memory mappings), each spawn of a thread process first wakes one queued thread
/// beyond the limit (`admitOneForSpawn`): ended processes' threads are then reclaimed at least
/// as fast as new ones start.
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
    /// `queue.count`, readable without the lock (a spawn checks it on every call).
    private let backlog = Atomic<Int>(0)

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
            backlog.store(queue.count, ordering: .relaxed)
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
        // One admitted beyond the limit for a spawn hands on no turn.
        let next = active > limit ? nil : popWaiting()
        if next == nil { active -= 1 }
        lock.unlock()
        if let next { Self.wake(next) }
    }

    /// Wakes one queued thread beyond the limit (a spawn's share of the reclaiming; see the
    /// type's comment). Takes no lock when nothing is queued.
    package func admitOneForSpawn() {
        guard backlog.load(ordering: .relaxed) > 0 else { return }
        lock.lock()
        let next = popWaiting()
        if next != nil { active += 1 }
        lock.unlock()
        if let next { Self.wake(next) }
    }

    /// The first queued thread still waiting for its turn, marked admitted (lock held).
    private func popWaiting() -> Mailbox? {
        defer { backlog.store(queue.count, ordering: .relaxed) }
        while let m = queue.popFirst() {
            if m.gateState == Self.waiting {
                m.gateState = Self.admitted
                return m
            }
        }
        return nil
    }

    /// Threads queued or unwinding (for benchmarks: zero once all have unwound).
    package var pending: Int { lock.withLock { active + queuedLocked } }

    /// Threads queued and not yet woken (for tests and benchmarks).
    package var queued: Int { lock.withLock { queuedLocked } }

    private var queuedLocked: Int {
        var n = 0
        for i in 0..<queue.count where queue[i].gateState == Self.waiting { n += 1 }
        return n
    }

    /// Wakes the thread asleep on `mailbox`'s condition; its outcome was set under the lock.
    private static func wake(_ mailbox: Mailbox) {
        mailbox.lock.lock()
        mailbox.lock.signal()
        mailbox.lock.unlock()
    }
}
