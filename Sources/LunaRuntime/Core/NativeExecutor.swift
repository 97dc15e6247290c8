import LunaSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something a `NativeExecutor` timer fires into.
package protocol NativeTimerTarget: AnyObject {
    /// The timer armed with `generation` expired (it may be stale: the target checks).
    func timerFired(generation: UInt64)
}

/// The executor of native processes: one OS thread running Swift tasks one job at a time.
///
/// A send from one native process that wakes another only appends a job to the local queue of
/// the same thread: no thread wake-up, no lock. Other threads (guest processes, the host)
/// enqueue through a locked remote queue and wake the thread when it idles. The executor also
/// keeps the timers of native receives and sleeps (armed and fired on its own thread).
package final class NativeExecutor: TaskExecutor, @unchecked Sendable {
    // Hot fields are `@exclusivity(unchecked)`: the discipline described here already
    // excludes overlapping access, and the dynamic checks cost a quarter of the throughput.
    // @unchecked Sendable: `local` is touched only on the executor's own thread (checked with
    // `isCurrent`); `remote`, `timers`, `idle` and `stopping` only under `lock`; `thread`,
    // `remotePending` and `timerCount` are atomics.
    private let lock = ConditionLock()
    @exclusivity(unchecked) private var remote: [UnownedJob] = []
    private let remotePending = Atomic<Bool>(false)
    @exclusivity(unchecked) private var idle = false
    @exclusivity(unchecked) private var stopping = false
    @exclusivity(unchecked) private var local = RingBuffer<UnownedJob>(capacity: 256)
    @exclusivity(unchecked) private var timers = TimerHeap()
    private let thread = Atomic<UInt>(0)
    private let timerCount = Atomic<Int>(0)
    @exclusivity(unchecked) private var timerSequence: UInt64 = 0
    /// Whether the executor already spun since it last ran a job (executor thread only).
    private var spunSinceWork = false
    /// Finished messages of the native processes, ready to become new ones (executor thread
    /// only, so no lock): a message sent by one process and received by another returns here
    /// and is the sender's next `create_data`, so a steady flow allocates nothing.
    @exclusivity(unchecked) private var spareMessages: [Message] = []
    /// Most messages kept in `spareMessages`.
    static let maximumSpareMessages = 2048
    /// Largest buffer a kept message may have (bytes).
    static let maximumSpareCapacity = 512

    /// Keeps `m`, a finished message nothing else references, for a later `create_data`
    /// (executor thread only); drops it when the pool is full or its buffer is large.
    @inline(__always)
    package func keepSpare(_ m: Message) {
        if spareMessages.count < NativeExecutor.maximumSpareMessages,
            m.buffer.capacity <= NativeExecutor.maximumSpareCapacity
        {
            spareMessages.append(m)
        }
    }

    /// A kept message, if any (executor thread only).
    @inline(__always)
    package func takeSpare() -> Message? { spareMessages.popLast() }

    /// Starts the executor's thread.
    package init(name: String = "luna-native") {
        let started = startThread(stackSize: 8 << 20, name: name) { [self] in run() }
        precondition(started, "could not start the native executor thread")
    }

    /// Stops the thread once its queue is empty (suspended tasks stay suspended).
    package func shutdown() {
        lock.withLock {
            stopping = true; lock.signal()
        }
    }

    /// Whether the caller runs on this executor's thread.
    @inline(__always)
    package var isCurrent: Bool { thread.load(ordering: .relaxed) == currentThreadToken() }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isCurrent {
            local.append(job)
        } else {
            lock.lock()
            remote.append(job)
            remotePending.store(true, ordering: .releasing)
            if idle { lock.signal() }
            lock.unlock()
        }
    }

    /// Arms a timer that calls `target.timerFired` on the executor's thread at monotonic
    /// `deadline` ns.
    package func armTimer(deadline: UInt64, target: NativeTimerTarget, generation: UInt64) {
        lock.lock()
        timerSequence &+= 1
        timers.push(.init(deadline: deadline, sequence: timerSequence, target: target, generation: generation))
        timerCount.add(1, ordering: .relaxed)
        if idle { lock.signal() }
        lock.unlock()
    }

    private func run() {
        thread.store(currentThreadToken(), ordering: .relaxed)
        let me = asUnownedTaskExecutor()
        while true {
            if !local.isEmpty { spunSinceWork = false }
            var batch = local.count
            while batch > 0, let job = local.popFirst() {
                job.runSynchronously(on: me)
                batch -= 1
            }
            if timerCount.load(ordering: .relaxed) > 0 { fireDueTimers() }
            if !local.isEmpty && !remotePending.load(ordering: .relaxed) { continue }
            lock.lock()
            if !remote.isEmpty {
                for j in remote { local.append(j) }
                remote.removeAll(keepingCapacity: true)
                remotePending.store(false, ordering: .relaxed)
                lock.unlock()
                continue
            }
            if !local.isEmpty { lock.unlock(); continue }
            if !stopping && !spunSinceWork {
                // Work from other threads (guest replies) often follows within microseconds;
                // spin (yielding) before sleeping, which would cost a 5-50 µs wake-up.
                spunSinceWork = true
                lock.unlock()
                spinForRemoteWork()
                continue
            }
            if stopping {
                // The environment is gone, so no process can still wait on a timer.
                timers = TimerHeap()
                timerCount.store(0, ordering: .relaxed)
                lock.unlock()
                return
            }
            idle = true
            lock.wait(untilMonotonicNs: timers.first?.deadline)
            idle = false
            lock.unlock()
        }
    }

    /// Spins up to 50 µs (or the next timer) for work from other threads.
    private func spinForRemoteWork() {
        let start = MonotonicClock.now()
        var end = start &+ 50_000
        if timerCount.load(ordering: .relaxed) > 0 {
            lock.lock()
            if let d = timers.first?.deadline, d < end { end = d }
            lock.unlock()
        }
        var i = 0
        while !remotePending.load(ordering: .acquiring) {
            i &+= 1
            if i & 15 == 0 {
                if MonotonicClock.now() >= end { return }
                sched_yield()
            }
        }
    }

    private func fireDueTimers() {
        let now = MonotonicClock.now()
        var due: [TimerHeap.Entry] = []
        lock.lock()
        while let top = timers.first, top.deadline <= now { due.append(timers.pop()!) }
        timerCount.subtract(due.count, ordering: .relaxed)
        lock.unlock()
        for e in due { e.target.timerFired(generation: e.generation) }
    }
}

@inline(__always)
package func currentThreadToken() -> UInt {
    #if canImport(Glibc)
    return UInt(pthread_self())
    #else
    return UInt(bitPattern: pthread_self())
    #endif
}

/// A binary min-heap of timers ordered by deadline, then arming order.
struct TimerHeap {
    struct Entry {
        var deadline: UInt64
        var sequence: UInt64
        var target: NativeTimerTarget
        var generation: UInt64
        func before(_ o: Entry) -> Bool {
            deadline != o.deadline ? deadline < o.deadline : sequence < o.sequence
        }
    }
    private var items: [Entry] = []
    var isEmpty: Bool { items.isEmpty }
    var first: Entry? { items.first }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[i].before(items[p]) { items.swapAt(i, p); i = p } else { break }
        }
    }

    mutating func pop() -> Entry? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].before(items[m]) { m = l }
            if r < items.count && items[r].before(items[m]) { m = r }
            if m == i { break }
            items.swapAt(i, m); i = m
        }
        return top
    }
}
