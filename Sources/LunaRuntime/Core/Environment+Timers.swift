import LunaSupport
import Synchronization
import TraceFormat

/// The pending `lunatic::timer::send_after` timers of an environment.
///
/// Timer ids belong to the process that set them (lunatic keeps them in the process's state):
/// ids count from 0 per process and only that process can cancel them. A timer keeps its
/// message until it fires or is cancelled; it fires on the environment's native executor
/// thread, which delivers the message like a `send` from the timer's owner. As in lunatic, a
/// timer still fires after its owner has ended, and a missing receiver drops the message.
package final class TimerTable: Sendable {
    private struct State {
        var nextID: [ProcessID: UInt64] = [:]
        var pending: [Key: PendingTimer] = [:]
    }
    package struct Key: Hashable, Sendable {
        package var owner: ProcessID
        package var id: UInt64
    }
    private let state = Mutex(State())

    package init() {}

    /// Registers the timer `make` creates for the next id of `owner`; returns it.
    fileprivate func add(owner: ProcessID, _ make: (Key) -> PendingTimer) -> PendingTimer {
        state.withLock { s in
            let id = s.nextID[owner, default: 0]
            s.nextID[owner] = id + 1
            let timer = make(Key(owner: owner, id: id))
            s.pending[timer.key] = timer
            return timer
        }
    }

    /// Removes the timer `key`; returns it if it was still pending.
    fileprivate func remove(_ key: Key) -> PendingTimer? {
        state.withLock { $0.pending.removeValue(forKey: key) }
    }

    /// Number of timers that have neither fired nor been cancelled.
    package var pendingCount: Int { state.withLock { $0.pending.count } }
}

/// One armed timer: the message, where it goes, and who set it.
final class PendingTimer: NativeTimerTarget, @unchecked Sendable {
    // @unchecked Sendable: `message` is handed over exactly once, by whoever removes the timer
    // from the table (the firing executor or a cancelling owner); the rest is immutable.
    let key: TimerTable.Key
    let target: ProcessID
    let message: Message
    weak var environment: Environment?

    init(key: TimerTable.Key, target: ProcessID, message: Message, environment: Environment?) {
        self.key = key
        self.target = target
        self.message = message
        self.environment = environment
    }

    func timerFired(generation: UInt64) {
        guard let environment, environment.timers.remove(key) != nil else { return }
        environment.deliverFromTimer(message, owner: key.owner, to: target)
    }
}

extension Environment {
    /// The environment's pending timers.
    package var timers: TimerTable { attachment("timers") { TimerTable() } }

    /// Arms a timer of process `owner` that sends `message` to `target` after `delayMs`
    /// milliseconds; returns the timer id.
    package func sendAfter(_ message: Message, owner: ProcessID, to target: ProcessID, delayMs: UInt64) -> UInt64 {
        let timer = timers.add(owner: owner) { key in
            PendingTimer(key: key, target: target, message: message, environment: self)
        }
        executor.armTimer(deadline: MonotonicClock.deadline(afterMs: delayMs), target: timer, generation: 0)
        return timer.key.id
    }

    /// Cancels timer `id` of process `owner`; returns whether it was still pending.
    package func cancelTimer(owner: ProcessID, id: UInt64) -> Bool {
        timers.remove(TimerTable.Key(owner: owner, id: id)) != nil
    }

    /// Delivers a timer's message as a `send` by `owner` (recorded under the receiver's lock, so
    /// it precedes the receive that takes it); a missing or ending receiver drops it.
    fileprivate func deliverFromTimer(_ m: Message, owner: ProcessID, to pid: ProcessID) {
        if let receiver = process(pid) {
            let mb = receiver.mailbox
            mb.lock.lock()
            if !mb.closed {
                if let trace { trace.record(timerSendEvent(m, owner: owner, to: pid)) }
                let c = mb.enqueueLocked(m)
                mb.lock.unlock()
                c?.resume()
                return
            }
            mb.lock.unlock()
        }
        if let trace {
            trace.record(timerSendEvent(m, owner: owner, to: pid))
            recordDrop(m, holder: owner, reason: .receiverMissing, trace)
        }
    }

    private func timerSendEvent(_ m: Message, owner: ProcessID, to pid: ProcessID) -> TraceEvent {
        TraceEvent(
            kind: .send, pid: owner, start: now(), args: .of(Int64(bitPattern: pid)), message: m.id,
            text: "send_after", result: .value(0))
    }
}

extension ProcessContext {
    /// `lunatic::timer::send_after(pid, delay)`: takes the scratch message and arms a timer that
    /// sends it to `pid` after `delayMs` ms; returns the timer id. Traps with lunatic's reason
    /// `lunatic::message::send_after` when the scratch area is empty.
    ///
    /// Records a `timer_call` event (args `[pid, delay]`, `message` = the message, result = the
    /// timer id); the delivery is recorded later as a `send` by this process with text `send_after`.
    public func sendAfter(to pid: ProcessID, delayMs: UInt64) throws -> UInt64 {
        try checkAlive()
        let args: EventArguments = .of(Int64(bitPattern: pid), Int64(bitPattern: delayMs))
        guard let m = scratch else {
            throw trap(.timerCall, args, "lunatic::message::send_after")
        }
        scratch = nil
        let start = trace != nil ? now() : 0
        let id = environment.sendAfter(m, owner: self.id, to: pid, delayMs: delayMs)
        if let trace {
            trace.record(
                TraceEvent(
                    kind: .timerCall, pid: self.id, start: start, end: now(), args: args,
                    message: m.id, text: "send_after", result: .value(Int64(bitPattern: id))))
        }
        return id
    }

    /// `lunatic::timer::cancel_timer(id)`: 1 if timer `id` of this process was pending (its
    /// message is then discarded unsent), 0 if it had fired, was cancelled or never existed.
    public func cancelTimer(_ id: UInt64) throws -> UInt32 {
        try checkAlive()
        let start = trace != nil ? now() : 0
        let cancelled = environment.cancelTimer(owner: self.id, id: id)
        if let trace {
            trace.record(
                TraceEvent(
                    kind: .timerCall, pid: self.id, start: start, end: now(),
                    args: .of(Int64(bitPattern: id)), text: "cancel_timer",
                    result: .value(cancelled ? 1 : 0)))
        }
        return cancelled ? 1 : 0
    }
}
