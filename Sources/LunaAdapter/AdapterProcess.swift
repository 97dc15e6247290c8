import Foundation
import LunaRuntime
import TraceFormat

/// One process of the built-in adapter: a native LunaRuntime process whose body waits for work.
///
/// `@unchecked Sendable`: `jobs`, `jobWaiter`, `busy`, `queued`, `ended` and `ctx` are guarded
/// by `cond`; the context itself is used by one thread at a time (the reading thread while the
/// process is idle, the body while it is busy).
final class AdapterProcess: @unchecked Sendable {
    /// Work for the body.
    enum Job {
        case blocking(BuiltinAdapter.Request, DispatchSemaphore?)
        case exit
        case fail(String)
        case poke
    }

    let adapter: BuiltinAdapter
    var pid: Int64 = 0
    private let cond = NSCondition()
    private var context: ProcessContext?
    private var jobs: [Job] = []
    private var jobWaiter: UnsafeContinuation<Job, Never>?
    private var busyFlag = false
    private var queued: [BuiltinAdapter.Request] = []
    private var ended: String?

    init(adapter: BuiltinAdapter) { self.adapter = adapter }

    /// The process's context (set once its body started).
    var ctx: ProcessContext { cond.lock(); defer { cond.unlock() }; return context! }

    /// How it ended ("normal", "failure", "killed", "link_died"), or nil while running.
    var endedStatus: String? { cond.lock(); defer { cond.unlock() }; return ended }

    /// Whether the runtime has marked it to die.
    var isTerminating: Bool { ctx.isTerminating }

    // MARK: the reading thread's side

    /// Blocks until the body has started.
    func waitUntilStarted() {
        cond.lock()
        while context == nil { cond.wait() }
        cond.unlock()
    }

    /// Queues `r` when the process is busy or ended; returns false when the caller may run it
    /// inline now (and marks nothing).
    func queueIfBusy(_ r: BuiltinAdapter.Request) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        if let ended {
            adapter.out.line("{\"id\":\(r.id),\"ended\":\"\(ended)\"}", flush: false)
            return true
        }
        if busyFlag {
            queued.append(r)
            return true
        }
        return false
    }

    /// Hands a job to the body, marking the process busy.
    func give(_ job: Job) {
        cond.lock()
        busyFlag = true
        if let w = jobWaiter {
            jobWaiter = nil
            cond.unlock()
            w.resume(returning: job)
            return
        }
        jobs.append(job)
        cond.unlock()
    }

    /// Wakes the body so that it notices it has been marked to die.
    func poke() {
        cond.lock()
        if let w = jobWaiter {
            jobWaiter = nil
            cond.unlock()
            w.resume(returning: .poke)
            return
        }
        jobs.append(.poke)
        cond.unlock()
    }

    /// Blocks until the runtime has finished the process (link notices delivered).
    @discardableResult
    func waitUntilEnded(timeout: Double) -> Bool {
        guard context != nil else { return true }
        return ctx.environment.waitForExitBlocking(of: ProcessID(pid), timeout: timeout) != nil
    }

    /// Blocks until a busy process has become idle or ended, at most `timeout` seconds.
    func waitUntilIdle(timeout: Double) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        cond.lock()
        while busyFlag && ended == nil {
            if !cond.wait(until: deadline) { break }
        }
        cond.unlock()
    }

    var isBusy: Bool { cond.lock(); defer { cond.unlock() }; return busyFlag }

    /// Blocks until the process is quiescent (see `isQuiescent`), at most `timeout` seconds.
    func waitUntilQuiescent(timeout: Double = 10) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        var spins = 0
        while !isQuiescent && DispatchTime.now().uptimeNanoseconds < deadline {
            spins += 1
            if spins < 100 { sched_yield() } else { usleep(200) }
        }
    }

    /// Idle, ended, or waiting in a blocking call (its mailbox has a waiter): its body is not
    /// about to do anything by itself.
    var isQuiescent: Bool {
        cond.lock()
        let running = busyFlag && ended == nil
        let c = context
        cond.unlock()
        guard running, let c else { return true }
        let mb = c.mailbox
        mb.lock.lock()
        defer { mb.lock.unlock() }
        if case .none = mb.wait { return false }
        return true
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

    /// The next queued request, or nil (and the process becomes idle).
    private func nextQueued() -> BuiltinAdapter.Request? {
        cond.lock()
        defer { cond.unlock() }
        if queued.isEmpty {
            busyFlag = false
            cond.broadcast()
            return nil
        }
        return queued.removeFirst()
    }

    /// The process body: serve jobs until told to end or until the runtime ends it.
    func body(_ ctx: ProcessContext) async throws {
        publish(ctx)
        do {
            while true {
                switch await nextJob() {
                case .poke:
                    if ctx.isTerminating { throw ProcessTerminated() }
                case .exit:
                    finish("normal")
                    return
                case .fail(let reason):
                    finish("failure")
                    throw LunaTrap(reason: reason)
                case .blocking(let r, let started):
                    try await adapter.runBlocking(r, self, started: started)
                    if try await !drain() { return }
                }
            }
        } catch let e as ProcessTerminated {
            finish(terminationStatus(ctx))
            adapter.reapDying(after: pid)
            throw e
        } catch {
            finish("failure")
            adapter.reapDying(after: pid)
            throw error
        }
    }

    /// Runs requests queued behind a blocking call; false when one of them ended the process
    /// normally.
    private func drain() async throws -> Bool {
        while let r = nextQueued() {
            if try await !adapter.runOnBody(r, self) { return false }
        }
        return true
    }

    /// Marks the end and answers every queued request with `ended`.
    func finish(_ status: String) {
        cond.lock()
        if ended == nil { ended = status }
        let left = queued
        queued = []
        busyFlag = false
        cond.broadcast()
        cond.unlock()
        for r in left { adapter.out.line("{\"id\":\(r.id),\"ended\":\"\(status)\"}", flush: true) }
    }

    func terminationStatus(_ ctx: ProcessContext) -> String {
        let mb = ctx.mailbox
        mb.lock.lock()
        let death = mb.pendingDeath
        mb.lock.unlock()
        switch death {
        case .linkDied?: return "link_died"
        case .failure?: return "failure"
        default: return "killed"
        }
    }
}
