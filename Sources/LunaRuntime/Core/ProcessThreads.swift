import LunaSupport

/// The OS threads that processes with a thread of their own (guests) run on, kept for reuse.
///
/// Creating a thread maps a stack and ending one unmaps it, both under the process-wide memory
/// lock that every other thread's page faults also take; a guest that spawns a guest and ends
/// (a chain, a supervisor restarting workers) paid both for every process. Here a thread whose
/// process ended waits up to `idleNanoseconds` for the next process with the same stack size
/// before it exits, and at most `maxIdle` threads wait at once, so a burst of ended processes
/// does not leave thousands of threads behind.
package final class ProcessThreads: @unchecked Sendable {
    // @unchecked Sendable: `idle` is guarded by `lock`; each worker's `job` by its own lock.

    /// The threads of all environments.
    package static let shared = ProcessThreads(idleNanoseconds: 2_000_000_000, maxIdle: 64)

    /// How long an idle thread waits for a process before it exits.
    package let idleNanoseconds: UInt64
    /// The most threads kept waiting (per stack size).
    package let maxIdle: Int

    private struct Job {
        let name: String
        let body: @Sendable () -> Void
    }

    /// A thread's hand-over slot: a spawner that took it from `idle` puts the next job here.
    private final class Worker: @unchecked Sendable {
        // @unchecked Sendable: `job` is guarded by `lock`.
        let lock = ConditionLock()
        var job: Job?
    }

    private let lock = ConditionLock()
    /// Waiting threads by stack size, the most recently idle last.
    private var idle: [Int: [Worker]] = [:]

    package init(idleNanoseconds: UInt64, maxIdle: Int) {
        self.idleNanoseconds = idleNanoseconds
        self.maxIdle = maxIdle
    }

    /// Runs `body` on a waiting thread of `stackSize`, or on a new one named `name`; false when
    /// the OS refuses a new thread.
    package func run(stackSize: Int, name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        let job = Job(name: name, body: body)
        lock.lock()
        let worker = idle[stackSize]?.popLast()
        lock.unlock()
        if let worker {
            worker.lock.lock()
            worker.job = job
            worker.lock.signal()
            worker.lock.unlock()
            return true
        }
        let fresh = Worker()
        fresh.job = job
        return startThread(stackSize: stackSize, name: name) {
            self.serve(fresh, stackSize: stackSize)
        }
    }

    /// The number of threads waiting for a process (for tests).
    package var idleCount: Int { lock.withLock { idle.values.reduce(0) { $0 + $1.count } } }

    /// A thread's life: the job it was created for, then each job handed to it while it waits.
    /// A job is released when it returns, so an idle thread keeps nothing of its last process.
    private func serve(_ worker: Worker, stackSize: Int) {
        var first = true
        while true {
            let next: Job?
            if first {
                worker.lock.lock()
                next = worker.job
                worker.job = nil
                worker.lock.unlock()
            } else {
                next = waitForJob(worker, stackSize: stackSize)
            }
            guard let job = next else { return }
            if !first { nameCurrentThread(job.name) }
            first = false
            job.body()
        }
    }

    /// Parks `worker` in `idle` until a spawner hands it a job; nil when it should exit (the
    /// idle list is full, or no job came in time).
    private func waitForJob(_ worker: Worker, stackSize: Int) -> Job? {
        lock.lock()
        if idle[stackSize, default: []].count >= maxIdle {
            lock.unlock()
            return nil
        }
        idle[stackSize, default: []].append(worker)
        lock.unlock()

        let deadline = MonotonicClock.now() &+ idleNanoseconds
        worker.lock.lock()
        while worker.job == nil, MonotonicClock.now() < deadline {
            worker.lock.wait(untilMonotonicNs: deadline)
        }
        if let job = worker.job {
            worker.job = nil
            worker.lock.unlock()
            return job
        }
        worker.lock.unlock()

        // No job in time: leave, unless a spawner has just taken this worker (its job follows).
        lock.lock()
        if let index = idle[stackSize]?.firstIndex(where: { $0 === worker }) {
            idle[stackSize]?.remove(at: index)
            lock.unlock()
            return nil
        }
        lock.unlock()
        worker.lock.lock()
        while worker.job == nil { worker.lock.wait(untilMonotonicNs: nil) }
        let job = worker.job
        worker.job = nil
        worker.lock.unlock()
        return job
    }
}
