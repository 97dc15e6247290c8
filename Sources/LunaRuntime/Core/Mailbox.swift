import LunaSupport
import Synchronization
import TraceFormat

/// What a blocked receiver waits for.
package enum WaitSpec {
    /// Not waiting.
    case none
    /// `receive` with this tag set (empty = anything).
    case receive([Int64])
    /// `send_receive_skip_search`: a message that arrived after `after`, with tag `tag`
    /// (0 = any message of any kind) (R-RECV-7).
    case skipSearch(after: UInt64, tag: Int64)
    /// `sleep_ms`: nothing matches; only the deadline or a death ends it.
    case sleep

    /// Whether `m` satisfies the wait.
    @inline(__always)
    func accepts(_ m: Message) -> Bool {
        switch self {
        case .none, .sleep: return false
        case .receive(let tags): return m.matches(tags)
        case .skipSearch(let after, let tag): return m.arrival > after && (tag == 0 || m.tag == tag)
        }
    }
}

/// How a wait ended.
package enum WaitOutcome {
    case pending
    case message(Message)
    case timeout
    case terminated
}

/// A process's mailbox (R-RECV-1) plus the state that must change under the same lock: the
/// single waiter (the owner, blocked in receive/skip-search/sleep) and the death flag.
///
/// Lock order: the environment's lock may be held while taking a mailbox lock, never the
/// other way round.
package final class Mailbox: NativeTimerTarget, @unchecked Sendable {
    // Hot fields are `@exclusivity(unchecked)`: the discipline described here already
    // excludes overlapping access, and the dynamic checks cost a quarter of the throughput.
    // @unchecked Sendable: every mutable field is read and written only while holding `lock`,
    // except `terminating` (an atomic) and the fields documented as owner-only.
    package let lock = RawConditionLock()
    @exclusivity(unchecked) package var queue = RingBuffer<Message>(capacity: 4)
    /// Arrivals so far (the next message gets `arrivals + 1`).
    @exclusivity(unchecked) package var arrivals: UInt64 = 0
    /// Set once the process is dying or has ended: deliveries are dropped.
    @exclusivity(unchecked) package var closed = false
    /// The death decided by someone else (kill, link death) before the body ended.
    @exclusivity(unchecked) package var pendingDeath: ProcessExit?
    /// The `exit` event text of `pendingDeath`.
    @exclusivity(unchecked) package var deathText = ""
    /// Mirrors `pendingDeath != nil` for lock-free checks at each call.
    package let terminating = Atomic<Bool>(false)
    /// Called (outside the lock) when the process is marked dying, to stop a body that is
    /// running rather than blocked (a guest executing WebAssembly). Set and cleared by the body
    /// under the lock.
    @exclusivity(unchecked) package var onDying: (@Sendable () -> Void)?
    /// Set by `markDying` when the death found the owner's thread parked in a receive,
    /// skip-search or sleep wait. The thread is left asleep; the environment publishes the end for it
    /// before releasing the lock it decided the death under (`Environment.publishParkedEnd`)
    /// and wakes it through the `UnwindGate`. The thread, which reads this under the lock
    /// when it wakes, then records and releases nothing: it only unwinds.
    @exclusivity(unchecked) package var parkedAtDeath = false
    /// `UnwindGate`'s bookkeeping, guarded by the gate's lock.
    @exclusivity(unchecked) package var gateState: UInt8 = 0

    // The waiter.
    @exclusivity(unchecked) package var wait: WaitSpec = .none
    @exclusivity(unchecked) package var outcome: WaitOutcome = .pending
    @exclusivity(unchecked) package var generation: UInt64 = 0
    @exclusivity(unchecked) package var continuation: UnsafeContinuation<Void, Never>?
    @exclusivity(unchecked) package var threadWaiting = false
    /// Set when a thread waiter's wait ends, so it can spin on it before sleeping. Set last,
    /// after every waiter field is written: a waiter that sees it reads `outcome` unlocked.
    package let waitEnded = Atomic<Bool>(false)
    /// The thread waiter's adaptive spin state (owner thread only; see `ProcessContext.spin`).
    @exclusivity(unchecked) package var spinState = SpinState()
    /// The event that records the return of the current wait (tracing only), completed and
    /// recorded under the lock at the moment the wait ends with a message or a timeout: by
    /// the sender that hands it a message, or by whoever sees the timeout. So the return
    /// precedes anything later, and a kill that comes after it cannot make the call look as
    /// if it never returned (R-PROC-8 applies to waits still waiting when the kill comes).
    /// Set and read only when tracing (`sink` set): untraced waits never touch it.
    @exclusivity(unchecked) package var returnEvent: PendingEvent?
    /// A thread waiter's `sleep_ms` as its call (tracing only): what `takeNeverReturned` turns
    /// into the never-returned sleep when the death finds the sleep parked.
    @exclusivity(unchecked) package var sleepEvent: PendingEvent?
    @exclusivity(unchecked) package var sink: (any TraceSink)?
    /// `sink` when it is a `TraceWriter`, unretained (the environment holds it): returns are
    /// recorded into it directly, without a witness call or reference counting.
    @exclusivity(unchecked) package var writer: Unmanaged<TraceWriter>?
    @exclusivity(unchecked) package var clock: TraceClock?

    package init() {}
    deinit { lock.destroy() }

    /// Index of the first queued message `spec` accepts.
    @inline(__always)
    package func firstMatch(_ spec: WaitSpec) -> Int? {
        var i = 0
        let n = queue.count
        switch spec {
        case .receive(let tags) where tags.isEmpty:
            return n > 0 ? 0 : nil
        case .skipSearch(let after, _):
            // Arrival numbers grow along the queue: skip the old part from the back.
            var lo = n
            while lo > 0 && queue[lo - 1].arrival > after { lo -= 1 }
            i = lo
        default: break
        }
        while i < n {
            if spec.accepts(queue[i]) { return i }
            i += 1
        }
        return nil
    }

    /// Ends the current wait with `result` (lock held); returns the continuation to resume
    /// after unlocking (native waiters) or signals the condition (thread waiters).
    @inline(__always)
    package func finishWait(_ result: WaitOutcome) -> UnsafeContinuation<Void, Never>? {
        outcome = result
        wait = .none
        if sink != nil {  // untraced, they are never set
            returnEvent = nil
            sleepEvent = nil
        }
        let c = continuation
        continuation = nil
        if threadWaiting {
            // Wakes a waiter asleep on the condition (no system call when none sleeps), then
            // publishes the end to a spinning one, which from then on may run without the lock.
            lock.signal()
            waitEnded.store(true, ordering: .releasing)
        }
        return c
    }

    /// Queues `m` or hands it to the waiting owner (lock held). Returns a continuation to
    /// resume after unlocking.
    @inline(__always)
    package func enqueueLocked(_ m: Message) -> UnsafeContinuation<Void, Never>? {
        arrivals &+= 1
        m.arrival = arrivals
        if case .none = wait {
            queue.append(m)
            return nil
        }
        if wait.accepts(m) {
            if sink != nil, returnEvent != nil { recordReturn(returnEvent, m) }
            return finishWait(.message(m))
        }
        queue.append(m)
        return nil
    }

    /// Marks the process as dying with `death` (kill or link death) and wakes its waiter.
    /// Returns false when it was already dying or ended.
    /// `beforeWaking` runs (lock held) once the death is decided and before a waiting owner is
    /// woken, so an event it records precedes anything the woken owner records.
    package func markDying(_ death: ProcessExit, text: String, beforeWaking: (() -> Void)? = nil) -> Bool {
        lock.lock()
        if closed || pendingDeath != nil { lock.unlock(); return false }
        pendingDeath = death
        deathText = text
        closed = true
        terminating.store(true, ordering: .releasing)
        beforeWaking?()
        // A body waiting here gets `.terminated` and runs no more of its own code: only one
        // that is running needs the hook (a guest stopped through the interrupter, whose
        // rounds cost a fuel write per guest being stopped, under the lock every kill takes).
        var c: UnsafeContinuation<Void, Never>?
        var hook = onDying
        if threadWaiting, !isIdle {
            // Left asleep (see `parkedAtDeath`): the wait is over, but its return event stays
            // for the environment to record as a call that never returned.
            outcome = .terminated
            wait = .none
            parkedAtDeath = true
            hook = nil
        } else if !isIdle {
            c = finishWait(.terminated)
            hook = nil
        }
        lock.unlock()
        c?.resume()
        hook?()
        return true
    }

    /// A native wait's timer expired.
    package func timerFired(generation g: UInt64) {
        lock.lock()
        guard g == generation, case .pending = outcome, !isIdle else { lock.unlock(); return }
        recordReturn(returnEvent, nil)
        let c = finishWait(.timeout)
        lock.unlock()
        c?.resume()
    }

    private var isIdle: Bool { if case .none = wait { return true } else { return false } }

    /// The never-returned call of a parked waiter (lock held; tracing only), as the waiter
    /// would have recorded it on waking, ended now: a `receive` without a result, a `sleep_ms`
    /// with its never-returned flag (second argument 1). Nil for a skip-search.
    package func takeNeverReturned() -> TraceEvent? {
        defer {
            returnEvent = nil
            sleepEvent = nil
        }
        if let pending = returnEvent, pending.record.kind == .receive {
            var e = pending.record
            e.end = clock?.now() ?? e.start
            e.hasResult = false
            var full = TraceEvent(e, payload: nil)
            full.tags = pending.tags
            return full
        }
        if let pending = sleepEvent {
            var e = pending.record
            e.end = clock?.now() ?? e.start
            e.append(1)
            return TraceEvent(e, payload: nil)
        }
        return nil
    }

    /// Records the return of a wait described by `pending` (lock held; tracing only): with
    /// message `m` (a receive returns 1 for a LinkDied message, else 0; a skip-search call 0),
    /// or, when nil, a timeout (9027).
    package func recordReturn(_ pending: PendingEvent?, _ m: Message?) {
        guard let pending, let sink else { return }
        var e = pending.record
        e.end = clock?.now() ?? e.start
        e.hasResult = true
        if let m {
            e.message = m.id
            e.resultValue = e.kind == .receive && m.isLinkDied ? 1 : 0
        } else {
            e.message = 0
            e.resultValue = Int64(ResultCode.timeout)
        }
        if !pending.tags.isEmpty {
            var full = TraceEvent(e, payload: nil)
            full.tags = pending.tags
            sink.record(full)
        } else if let writer {
            writer._withUnsafeGuaranteedRef { $0.record(e, payload: nil) }
        } else {
            sink.record(e, payload: nil)
        }
    }
}

/// The event a wait records when it returns (its end, message and result filled in then): plain
/// fields plus the receive's tag set, kept inline (no allocation per wait).
package struct PendingEvent {
    package var record: EventRecord
    /// The tag set of a `receive` (empty: none, or another call).
    package var tags: [Int64]
    package init(_ record: EventRecord, tags: [Int64] = []) {
        self.record = record
        self.tags = tags
    }
}
