import Foundation
import LunaSupport

/// How late this machine runs threads that are due: a sampler thread sleeps in short steps and
/// records each wake-up that comes more than a millisecond late. On a loaded machine every
/// runnable thread waits its turn for the CPU, the adapter's as much as this one, so a timeout
/// answered late while this process's own wake-ups were late is the machine's doing; the late-
/// timeout check adds the worst such delay seen during the wait to its tolerance.
///
/// One sampler per process, running only while some replay uses it (`acquire`/`release`).
package final class SchedulingDelayMonitor: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is read and written only under `lock`.
    package static let shared = SchedulingDelayMonitor()

    /// Sleep between samples, in ns.
    static let step: UInt64 = 5_000_000
    /// Wake-ups later than this are recorded, in ns.
    static let threshold: UInt64 = 1_000_000
    /// Late wake-ups kept (the oldest are dropped): about the last minute on a loaded machine.
    package static let capacity = 4096

    package init() {}

    private let lock = ConditionLock()
    private var users = 0
    private var running = false
    /// Late wake-ups: when the sampler woke and how late, in ns.
    private var late: [(at: UInt64, by: UInt64)] = []

    /// Starts sampling (if no one else has) until the matching `release`.
    package func acquire() {
        lock.withLock {
            users += 1
            guard !running else { return }
            running = true
            let thread = Thread { [self] in sample() }
            thread.name = "luna-sched-monitor"
            thread.start()
        }
    }

    package func release() {
        lock.withLock {
            users -= 1
            if users == 0 { lock.broadcast() }
        }
    }

    /// The latest any wake-up came among those due between `from` and `to` (monotonic ns).
    package func worstDelay(from: UInt64, to: UInt64) -> UInt64 {
        lock.withLock {
            var worst: UInt64 = 0
            for entry in late.reversed() {
                if entry.at < from { break }
                if entry.at <= to { worst = max(worst, entry.by) }
            }
            return worst
        }
    }

    /// Late wake-ups held now.
    package var lateCount: Int { lock.withLock { late.count } }

    /// Whether the sampler thread is running.
    package var isSampling: Bool { lock.withLock { running } }

    /// Records a wake-up at `at` that came `by` ns late (the sampler's; tests feed it directly).
    package func noteLate(at: UInt64, by: UInt64) { lock.withLock { recordLate(at: at, by: by) } }

    private func recordLate(at: UInt64, by: UInt64) {
        if late.count >= Self.capacity { late.removeFirst(late.count / 2) }
        late.append((at, by))
    }

    private func sample() {
        lock.lock()
        while users > 0 {
            let due = MonotonicClock.now() &+ Self.step
            lock.wait(untilMonotonicNs: due)  // a release wakes it early
            let now = MonotonicClock.now()
            if now > due &+ Self.threshold { recordLate(at: now, by: now - due) }
        }
        running = false
        lock.unlock()
    }
}
