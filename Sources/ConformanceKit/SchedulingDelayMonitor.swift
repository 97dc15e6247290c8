import Foundation
import LunaSupport

#if canImport(Glibc)
import Glibc
#endif

/// How much this machine kept processes from running, for the late-timeout check. A sampler
/// thread wakes every 5 ms and records
/// - each of its own wake-ups that came more than a millisecond late, and
/// - the time each watched process (the adapter) spent runnable but
///   waiting for a CPU: the growth of the `run_delay` of its threads in
///   `/proc/PID/task/*/schedstat` (Linux; elsewhere only the late wake-ups are measured). It is
///   summed per thread (`increase`), not read as the process's total: a thread that ends takes
///   its delay with it, and the total would fall.
/// On a loaded machine a timeout can come late because the adapter's timer, worker or writer
/// thread waited for a CPU, or because this process's reader ran late; the check adds what
/// these measures saw during the wait to its tolerance. On a quiet machine they are near zero,
/// so an adapter that is late by itself is still caught.
///
/// One sampler per process, running only while some replay uses it (`acquire`/`release`).
package final class SchedulingDelayMonitor: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is read and written only under `lock`.
    package static let shared = SchedulingDelayMonitor()

    /// Sleep between samples, in ns.
    static let step: UInt64 = 5_000_000
    /// Wake-ups later than this are recorded, in ns.
    static let threshold: UInt64 = 1_000_000
    /// Samples kept per series (the oldest are dropped): 20 s and more at one per 5 ms.
    package static let capacity = 4096

    package init() {}

    private let lock = ConditionLock()
    private var users = 0
    private var running = false
    /// Late wake-ups: when the sampler woke and how late, in ns.
    private var late: [(at: UInt64, by: UInt64)] = []
    /// Watched processes: how many replays watch each, its cumulative run-queue delay (ns) as
    /// sampled over time (never falling), and each thread's delay at the last sample (nil
    /// before the first).
    private var watched: [Int32: Watched] = [:]

    private struct Watched {
        var users = 0
        var samples: [(at: UInt64, delay: UInt64)] = []
        var threads: [Int32: UInt64]? = nil
    }

    /// Starts sampling (if no one else has) until the matching `release`, watching `pids` too.
    package func acquire(watching pids: [Int32] = []) {
        lock.withLock {
            users += 1
            for pid in pids where pid > 0 { watched[pid, default: Watched()].users += 1 }
            guard !running else { return }
            running = true
            let thread = Thread { [self] in sample() }
            thread.name = "luna-sched-monitor"
            thread.start()
        }
    }

    package func release(watching pids: [Int32] = []) {
        lock.withLock {
            users -= 1
            for pid in pids where pid > 0 {
                watched[pid]?.users -= 1
                if watched[pid]?.users == 0 { watched[pid] = nil }
            }
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

    /// How long the threads of `pid` waited for a CPU between `from` and `to`, as far as the
    /// samples around that span show (0 when it is not watched or was not sampled).
    package func runQueueDelay(of pid: Int32, from: UInt64, to: UInt64) -> UInt64 {
        lock.withLock {
            guard let samples = watched[pid]?.samples, let last = samples.last else { return 0 }
            // The latest sample at or before `from`, and the first at or after `to` (else the last).
            let before = samples.last { $0.at <= from } ?? samples[0]
            let after = samples.first { $0.at >= to } ?? last
            return after.delay > before.delay ? after.delay - before.delay : 0
        }
    }

    /// Whether the sampler thread is running.
    package var isSampling: Bool { lock.withLock { running } }

    /// Samples held now (late wake-ups, and per watched process).
    package var lateCount: Int { lock.withLock { late.count } }
    package func sampleCount(of pid: Int32) -> Int { lock.withLock { watched[pid]?.samples.count ?? 0 } }

    /// Records a wake-up at `at` that came `by` ns late (the sampler's; tests feed it directly).
    package func noteLate(at: UInt64, by: UInt64) { lock.withLock { recordLate(at: at, by: by) } }

    private func recordLate(at: UInt64, by: UInt64) {
        if late.count >= Self.capacity { late.removeFirst(late.count / 2) }
        late.append((at, by))
    }

    private func sample() {
        lock.lock()
        while users > 0 {
            let pids = Array(watched.keys)
            lock.unlock()
            // Read /proc outside the lock: it takes tens of microseconds.
            let delays = pids.map { Self.threadRunDelays(of: $0) }
            let at = MonotonicClock.now()
            lock.lock()
            for (pid, threads) in zip(pids, delays) {
                guard let threads, var w = watched[pid] else { continue }
                let total = (w.samples.last?.delay ?? 0) &+ (w.threads.map { Self.increase(from: $0, to: threads) } ?? 0)
                w.threads = threads
                if w.samples.count >= Self.capacity { w.samples.removeFirst(Self.capacity / 2) }
                w.samples.append((at, total))
                watched[pid] = w
            }
            guard users > 0 else { break }
            let due = MonotonicClock.now() &+ Self.step
            lock.wait(untilMonotonicNs: due)  // a release wakes it early
            let now = MonotonicClock.now()
            if now > due &+ Self.threshold { recordLate(at: now, by: now - due) }
        }
        running = false
        lock.unlock()
    }

    /// The run-queue delay that `current` (thread id → delay, ns) adds to `previous`: each
    /// thread's growth, and the whole delay of a thread that began since (it waited after the
    /// previous sample). A thread that ended is left out, so the sum never falls; its wait since
    /// the previous sample is lost, at most one step of it.
    package static func increase(from previous: [Int32: UInt64], to current: [Int32: UInt64]) -> UInt64 {
        var added: UInt64 = 0
        for (tid, delay) in current {
            let before = previous[tid] ?? 0
            if delay > before { added &+= delay - before }
        }
        return added
    }

    /// The sum of the run-queue delays (ns) of the threads of `pid` so far; nil when unknown.
    package static func runDelay(of pid: Int32) -> UInt64? {
        threadRunDelays(of: pid).map { $0.values.reduce(0, &+) }
    }

    /// The run-queue delay (ns) of each thread of `pid` so far, by thread id; nil when unknown
    /// (not Linux, no such process, or no thread readable).
    package static func threadRunDelays(of pid: Int32) -> [Int32: UInt64]? {
        #if canImport(Glibc)
        guard let dir = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(dir) }
        var delays: [Int32: UInt64] = [:]
        var buffer = [UInt8](repeating: 0, count: 128)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let tid = Int32(name) else { continue }  // a thread id
            let fd = open("/proc/\(pid)/task/\(name)/schedstat", O_RDONLY)
            guard fd >= 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard n > 0 else { continue }
            // "<cpu time> <run delay> <slices>", all in ns but the last.
            let fields = buffer[0..<n].split(separator: UInt8(ascii: " "))
            guard fields.count >= 2, let delay = UInt64(String(decoding: fields[1], as: UTF8.self)) else { continue }
            delays[tid] = delay
        }
        return delays.isEmpty ? nil : delays
        #else
        return nil
        #endif
    }
}
