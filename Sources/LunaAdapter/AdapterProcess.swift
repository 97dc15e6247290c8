import Foundation
import LunaRuntime
import LunaSupport
import TraceFormat

/// One process of the built-in adapter: a native LunaRuntime process whose body only waits.
///
/// Every request runs on the adapter's dispatcher thread, on the process's context, while the
/// body is parked waiting for a job. The body is needed for what the dispatcher cannot do
/// without blocking: a `receive` or `send_receive_skip_search` that has to wait (the runtime
/// suspends the body there), and ending the process (returning, trapping or unwinding after a
/// kill on its own execution context). When its wait ends, the body hands the answer back to
/// the dispatcher (`Inbox.post`) and parks again; it never runs another request itself.
///
/// `@unchecked Sendable`: `pid`, `state`, `deadline`, `queue` and `ctx` are the dispatcher's
/// alone; `jobs`/`jobWaiter`/`context` are guarded by `cond`; a posted completion is the
/// inbox's. The context is used by one side at a time: the dispatcher while the body is parked
/// for a job, the body while it runs one.
final class AdapterProcess: @unchecked Sendable {
    /// Work for the body.
    enum Job {
        /// Wait in a blocking call (the dispatcher already did what could be done without waiting).
        case wait(BuiltinAdapter.Request)
        /// Return from the entry function: a normal end.
        case exit
        /// Trap outside any call: an end with failure.
        case fail(String)
        /// Look whether the runtime has marked the process to die, and end it then.
        case poke
    }

    /// Where the process stands, as the dispatcher sees it.
    enum State {
        /// Parked for a job: the dispatcher may run its requests.
        case idle
        /// Its body waits in the blocking call `request`; later requests queue.
        case waiting(BuiltinAdapter.Request)
        /// Ended with this protocol status (`normal`, `failure`, `killed`, `link_died`).
        case ended(String)
    }

    /// How a blocking call handed to the body ended.
    enum Completion {
        /// It returned; the response line.
        case returned(String)
        /// It trapped; the response line (the body has thrown, the process is ending).
        case trapped(String)
        /// The process was killed or died from a link while waiting (R-PROC-8).
        case terminated
    }

    /// Its pid (set right after the spawn, before the dispatcher uses it).
    var pid: Int64 = 0
    /// The environment generation the process belongs to (message tokens carry it).
    let generation: Int
    var state: State = .idle
    /// When the dispatcher ends its current wait with a timeout, in `MonotonicClock` nanoseconds
    /// (nil: it waits for good).
    var deadline: UInt64?
    /// Requests that arrived while it waited, each with its arrival number.
    var queue: [(seq: UInt64, request: BuiltinAdapter.Request)] = []

    private let cond = ConditionLock()
    private var context: ProcessContext?
    private var jobs: [Job] = []
    private var jobWaiter: UnsafeContinuation<Job, Never>?

    init(generation: Int) { self.generation = generation }

    /// The process's context, for the dispatcher (set by `waitUntilStarted`, before any use).
    var ctx: ProcessContext {
        guard let started else { preconditionFailure("AdapterProcess.ctx: process \(pid) used before it started") }
        return started
    }
    private var started: ProcessContext?

    var isIdle: Bool { if case .idle = state { return true } else { return false } }
    var isWaiting: Bool { if case .waiting = state { return true } else { return false } }
    var endedStatus: String? { if case .ended(let s) = state { return s } else { return nil } }

    /// Whether the runtime has marked it to die (killed, or a link died).
    var isTerminating: Bool { ctx.isTerminating }

    /// Whether its body is inside the runtime's wait (its mailbox has a waiter).
    var isInWait: Bool {
        let mb = ctx.mailbox
        mb.lock.lock()
        defer { mb.lock.unlock() }
        if case .none = mb.wait { return false }
        return true
    }

    /// The protocol status of a death the runtime decided (kill or link death), or `failure`.
    var pendingDeathStatus: String {
        let mb = ctx.mailbox
        mb.lock.lock()
        let death = mb.pendingDeath
        mb.lock.unlock()
        switch death {
        case .linkDied?: return "link_died"
        case .killed?: return "killed"
        default: return "failure"
        }
    }

    // MARK: the dispatcher's side

    /// Blocks until the body has started and publishes its context to the dispatcher.
    func waitUntilStarted() {
        cond.lock()
        while context == nil { cond.wait(untilMonotonicNs: nil) }
        started = context
        cond.unlock()
    }

    /// Hands a job to the body.
    func give(_ job: Job) {
        cond.lock()
        if let w = jobWaiter {
            jobWaiter = nil
            cond.unlock()
            w.resume(returning: job)
            return
        }
        jobs.append(job)
        cond.unlock()
    }

    // MARK: the body

    private func nextJob() async -> Job {
        await withUnsafeContinuation { c in
            cond.lock()
            if !jobs.isEmpty {
                let j = jobs.removeFirst()
                cond.unlock()
                c.resume(returning: j)
            } else {
                jobWaiter = c
                cond.unlock()
            }
        }
    }

    private func publish(_ ctx: ProcessContext) {
        cond.lock()
        context = ctx
        cond.broadcast()
        cond.unlock()
    }

    /// The process body: run jobs until one ends the process or the runtime ends it.
    func body(_ ctx: ProcessContext, adapter: BuiltinAdapter) async throws {
        publish(ctx)
        while true {
            switch await nextJob() {
            case .poke:
                if ctx.isTerminating { throw ProcessTerminated() }
            case .exit:
                return
            case .fail(let reason):
                throw LunaTrap(reason: reason)
            case .wait(let r):
                do {
                    let line = try await adapter.waitingPart(of: r, ctx, generation: generation)
                    adapter.inbox.post(.returned(line), for: self)
                } catch let t as LunaTrap {
                    adapter.inbox.post(.trapped(adapter.trapLine(r.id, t, ctx, generation: generation)), for: self)
                    throw t
                } catch {
                    adapter.inbox.post(.terminated, for: self)
                    throw error
                }
            }
        }
    }
}
