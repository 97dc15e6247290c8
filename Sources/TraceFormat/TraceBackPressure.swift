import Dispatch
import Synchronization

/// How far a sink's background writing has fallen behind, shared with the producers of events.
///
/// A sink whose `record` hands work to a background thread (`TraceWriter`) never waits inside
/// `record`: callers hold runtime locks there (a mailbox, the environment), and a slow disk must
/// not stop every process that needs one of them. Instead the sink counts the blocks it has
/// queued; past `limit` it is *behind*, and a producer waits — in `waitBlocking(unless:)` or
/// `wait()` — at a point where it holds no lock: the runtime does so at the start of each host
/// call of a guest and at each waiting call of a native process. So only processes that go on
/// producing events wait, nothing is lost, and memory stays bounded by `limit` blocks plus what
/// the producers record between two such points.
public final class TraceBackPressure: Sendable {
    /// Blocks queued and not yet written.
    private let backlog = Atomic<Int>(0)
    /// Producers waiting right now (for tests and `luna-trace` diagnostics).
    private let waiters = Atomic<Int>(0)
    /// Producers asleep until the backlog falls to `limit`.
    private let sleepers = Mutex(Sleepers())
    /// The most blocks that may be queued before producers are asked to wait.
    public let limit: Int

    private struct Sleepers: ~Copyable {
        var threads: [DispatchSemaphore] = []
        var tasks: [UnsafeContinuation<Void, Never>] = []
    }

    /// A gauge allowing `limit` queued blocks (at least 1).
    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Whether producers should wait before recording more: one relaxed atomic load.
    @inline(__always)
    public var isBehind: Bool { backlog.load(ordering: .relaxed) > limit }

    /// Blocks queued and not yet written.
    public var queuedBlocks: Int { backlog.load(ordering: .relaxed) }

    /// Producers waiting at this moment.
    public var waitingProducers: Int { waiters.load(ordering: .relaxed) }

    /// Counts a block handed to the background writer.
    @inline(__always)
    func blockQueued() {
        backlog.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts a block written; wakes every waiting producer once the backlog is at `limit`.
    func blockWritten() {
        // Once per block, so the lock costs nothing per event; taking it unconditionally (after
        // the decrement) is what makes a producer that checked `isBehind` under it either see
        // the decrement or be in the list.
        let left = backlog.wrappingSubtract(1, ordering: .releasing).newValue
        guard left <= limit else { return }
        let woken = sleepers.withLock { s -> ([DispatchSemaphore], [UnsafeContinuation<Void, Never>]) in
            defer { s.threads.removeAll(); s.tasks.removeAll() }
            return (s.threads, s.tasks)
        }
        for t in woken.0 { t.signal() }
        for c in woken.1 { c.resume() }
    }

    /// Blocks the calling thread while the sink is behind. `unless` is checked every few
    /// milliseconds and ends the wait early when it returns true (the process was killed).
    /// Call it holding no lock.
    public func waitBlocking(unless stop: () -> Bool) {
        guard isBehind else { return }
        waiters.wrappingAdd(1, ordering: .acquiringAndReleasing)
        defer { waiters.wrappingSubtract(1, ordering: .relaxed) }
        let semaphore = DispatchSemaphore(value: 0)
        while !stop() {
            let asleep = sleepers.withLock { s -> Bool in
                guard isBehind else { return false }
                s.threads.append(semaphore)
                return true
            }
            guard asleep else { return }
            if semaphore.wait(timeout: .now() + .milliseconds(10)) == .timedOut {
                // Not woken: take the semaphore out again (or consume the signal that raced
                // with the timeout) so the next round starts clean.
                let removed = sleepers.withLock { s -> Bool in
                    guard let i = s.threads.firstIndex(where: { $0 === semaphore }) else { return false }
                    s.threads.remove(at: i)
                    return true
                }
                if !removed { semaphore.wait() }
            }
        }
    }

    /// Suspends the calling task while the sink is behind. Call it holding no lock.
    public func wait() async {
        guard isBehind else { return }
        waiters.wrappingAdd(1, ordering: .acquiringAndReleasing)
        defer { waiters.wrappingSubtract(1, ordering: .relaxed) }
        while isBehind {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let queued = sleepers.withLock { s -> Bool in
                    guard isBehind else { return false }
                    s.tasks.append(c)
                    return true
                }
                if !queued { c.resume() }
            }
        }
    }
}
