import Foundation
import LunaRuntime
import LunaSupport
import TraceFormat

/// In which order requests run (docs/ADAPTER_PROTOCOL.md section 2.1), on the dispatcher.
extension BuiltinAdapter {
    /// Longest wait for a process body to do its part (post an answer, enter a wait, end):
    /// it runs on the environment's executor thread, which nothing else keeps busy, so this is
    /// only a guard against a stuck runtime.
    static let bodyPatience: Double = 60

    /// Runs request `r` of process `p` now, or queues it while `p` waits in a blocking call
    /// (rule 2), or answers `ended` when `p` has ended.
    func submit(_ r: Request, to p: AdapterProcess) {
        arrivals += 1
        switch p.state {
        case .ended(let status):
            out.ended(r.id, status)
        case .idle where p.queue.isEmpty:
            run(r, on: p)
        case .idle, .waiting:
            if p.queue.isEmpty { queued.append(p) }
            p.queue.append((arrivals, r))
        }
    }

    /// Notes that the last request may have ended `p`'s blocking call (a message or notice it
    /// sent there) or marked `p` to die; `settle` looks at it.
    func suspect(_ p: AdapterProcess?) {
        if let p { suspects.append(p) }
    }

    /// Notes that the last request may have ended or killed any process (a kill, an abnormal end
    /// whose link notices may cascade); `settle` looks at all of them.
    func suspectAll() { suspectEveryone = true }

    /// Brings everything the last request caused to an end before the next one starts (the
    /// protocol's synchronous delivery): processes whose blocking call ended (a message, a
    /// death, or a timeout) get their answer; processes the runtime has marked to die end,
    /// their link notices delivered; and requests that queued behind a call that has returned
    /// run, oldest first across processes, each followed by the same. Returns when every
    /// process is idle with nothing queued, waiting, or ended.
    func settle() {
        while true {
            if let p = nextToAttend() {
                attend(p)
                continue
            }
            var next: AdapterProcess?
            for p in queued where p.isIdle {
                if p.queue[0].seq < (next?.queue[0].seq ?? .max) { next = p }
            }
            guard let p = next else { return }
            let r = p.queue.removeFirst().request
            if p.queue.isEmpty { queued.removeAll { $0 === p } }
            run(r, on: p)
        }
    }

    /// The next process with something to settle: a blocking call whose body has posted its
    /// end, or a suspect whose blocking call has ended or that the runtime has marked to die.
    func nextToAttend() -> AdapterProcess? {
        if suspectEveryone {
            suspectEveryone = false
            suspects = order.filter { $0.endedStatus == nil }
        }
        while !suspects.isEmpty {
            let p = suspects.removeFirst()
            if needsAttention(p) { return p }
        }
        for p in inbox.completedProcesses() {
            if p.isWaiting { return p }
            // A body that answered only after its process was given up on (see `attend`).
            _ = inbox.takeCompletion(of: p, timeout: 0)
        }
        return nil
    }

    /// Whether `p` has something to settle: a blocking call that has ended, or a death the
    /// runtime decided while it was idle.
    func needsAttention(_ p: AdapterProcess) -> Bool {
        switch p.state {
        case .waiting: return inbox.hasCompletion(p) || !p.isInWait
        case .idle: return p.isTerminating
        case .ended: return false
        }
    }

    func attend(_ p: AdapterProcess) {
        switch p.state {
        case .waiting(let r):
            switch inbox.takeCompletion(of: p, timeout: Self.bodyPatience) {
            case .returned(let line)?:
                out.line(line, flush: true)
                p.state = .idle
                // Marked to die after its wait had ended: it ends before its next request.
                if p.isTerminating { suspect(p) }
            case .trapped(let line)?:
                out.line(line, flush: true)
                end(p)
            case .terminated?:
                end(p, waiting: r)
            case nil:
                log("process \(p.pid): its blocking call \(r.id) ended but its body did not answer within \(Self.bodyPatience) s")
                end(p, waiting: r)
            }
        case .idle:
            p.give(.poke)
            end(p)
        case .ended:
            break
        }
    }

    /// Waits until the runtime has ended `p` (its body is unwinding, returning or trapping) and
    /// delivered its link notices; answers `ended` to its waiting call `waiting`, to the
    /// requests queued behind it, and to `wait_exit` requests.
    func end(_ p: AdapterProcess, waiting: Request? = nil) {
        let pid = ProcessID(p.pid)
        let exit = env.waitForExitBlocking(of: pid, timeout: Self.bodyPatience) ?? env.exitStatus(of: pid)
        if exit == nil { log("process \(p.pid) did not end within \(Self.bodyPatience) s") }
        let status = Self.status(exit)
        p.state = .ended(status)
        if let waiting { out.ended(waiting.id, status, flush: true) }
        for q in p.queue { out.ended(q.request.id, status) }
        p.queue = []
        queued.removeAll { $0 === p }
        answerExitWaits(of: p)
        // Its link notices may have killed linked processes or woken their receives.
        if exit != .normal { suspectAll() }
    }

    /// Hands blocking call `r` to `p`'s body and returns once the body waits in it or has
    /// finished it: then its message has been sent (skip-search) and any message that arrives
    /// from now on is seen by the wait (R-RECV-7).
    ///
    /// The runtime's wait has no deadline; the dispatcher ends it with the runtime's own
    /// timeout (`Mailbox.timerFired`) when `timeoutMs` has passed, between two requests
    /// (`endDueWait`). So timeouts end in deadline order, each with everything it lets run
    /// (the requests queued behind it) done before the next one is due, as in an adapter that
    /// runs timers and requests on one thread: a receive never times out while a message that
    /// an earlier timeout released is still on its way.
    func startWaiting(_ r: Request, on p: AdapterProcess, timeoutMs: UInt64) {
        p.state = .waiting(r)
        p.deadline = timeoutMs == .max ? nil : MonotonicClock.deadline(afterMs: timeoutMs)
        if p.deadline != nil { timedWaits.append(p) }
        p.give(.wait(r))
        let deadline = MonotonicClock.deadline(after: Self.bodyPatience)
        var spins = 0
        while !inbox.hasCompletion(p) && !p.isInWait {
            if MonotonicClock.now() > deadline {
                log("process \(p.pid): its body did not start blocking call \(r.id) within \(Self.bodyPatience) s")
                return
            }
            spins += 1
            if spins < 200 { sched_yield() } else { usleep(50) }
        }
        suspect(p)  // it may have finished at once (a trap, a reply to itself)
    }

    /// The earliest deadline of a wait (`MonotonicClock` nanoseconds), if any.
    var nextWaitDeadline: UInt64? {
        timedWaits.removeAll { !$0.isWaiting || $0.deadline == nil }
        return timedWaits.compactMap(\.deadline).min()
    }

    /// Ends the wait whose deadline is earliest if it has passed, as the runtime's timer would
    /// (its call returns 9027); returns whether it did.
    func endDueWait() -> Bool {
        guard let due = nextWaitDeadline, due <= MonotonicClock.now(),
            let p = timedWaits.first(where: { $0.deadline == due })
        else { return false }
        p.deadline = nil
        let mb = p.ctx.mailbox
        mb.lock.lock()
        let generation = mb.generation
        mb.lock.unlock()
        mb.timerFired(generation: generation)
        suspect(p)
        return true
    }
}
