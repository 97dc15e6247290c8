import ConformanceKit
import Foundation
import LunaSupport
import Testing

/// The machine's scheduling delay, which widens the late-timeout tolerance of a replay.
@Suite("Scheduling delay monitor")
struct SchedulingDelayMonitorTests {
    @Test("samples only while a replay holds it, and stops when the last one lets go")
    func lifetime() throws {
        let monitor = SchedulingDelayMonitor()
        #expect(!monitor.isSampling)
        monitor.acquire()
        monitor.acquire()
        #expect(monitor.isSampling)
        monitor.release()
        #expect(monitor.isSampling)
        monitor.release()
        // The sampler notices within one step; bound the wait loosely.
        let deadline = MonotonicClock.deadline(after: 5)
        while monitor.isSampling && MonotonicClock.now() < deadline { usleep(1_000) }
        #expect(!monitor.isSampling)
    }

    @Test("the worst delay is taken over the wait's window only")
    func window() {
        let monitor = SchedulingDelayMonitor()
        let t: UInt64 = 10_000_000_000
        monitor.noteLate(at: t - 2_000_000, by: 90_000_000)  // before the wait
        monitor.noteLate(at: t + 1_000_000, by: 4_000_000)
        monitor.noteLate(at: t + 3_000_000, by: 30_000_000)
        monitor.noteLate(at: t + 50_000_000, by: 70_000_000)  // after it
        #expect(monitor.worstDelay(from: t, to: t + 10_000_000) == 30_000_000)
        #expect(monitor.worstDelay(from: t + 4_000_000, to: t + 10_000_000) == 0)
        #expect(monitor.worstDelay(from: t - 5_000_000, to: t + 60_000_000) == 90_000_000)
    }

    @Test("memory stays bounded however many late wake-ups it sees")
    func bounded() {
        let monitor = SchedulingDelayMonitor()
        for i in 0..<(SchedulingDelayMonitor.capacity * 3) { monitor.noteLate(at: UInt64(i), by: 2_000_000) }
        let all = monitor.worstDelay(from: 0, to: .max)
        #expect(all == 2_000_000)
        #expect(monitor.lateCount <= SchedulingDelayMonitor.capacity)
    }
}

/// The run-queue delay of a watched process, read from /proc (Linux).
@Suite("Scheduling delay monitor: run-queue delay")
struct RunQueueDelayTests {
    @Test("this process's threads have a readable, growing run-queue delay")
    func readsProc() throws {
        #if os(Linux)
        let pid = getpid()
        _ = try #require(SchedulingDelayMonitor.runDelay(of: pid))
        // The process-wide sum can fall when other tests' threads end between two samples, so
        // growth is checked per thread: each thread alive at both samples only waits more.
        let first = try #require(SchedulingDelayMonitor.threadRunDelays(of: pid))
        // Three threads spinning on two CPUs with this one: someone waits.
        let stop = MonotonicClock.deadline(after: 0.2)
        let spinners = (0..<3).map { _ in
            Thread { while MonotonicClock.now() < stop {} }
        }
        spinners.forEach { $0.start() }
        while MonotonicClock.now() < stop { usleep(1_000) }
        let second = try #require(SchedulingDelayMonitor.threadRunDelays(of: pid))
        let common = Set(first.keys).intersection(second.keys)
        #expect(!common.isEmpty)
        let shrunk = common.filter { second[$0]! < first[$0]! }
        #expect(shrunk.isEmpty, "threads whose run delay fell: \(shrunk.sorted())")
        #expect(SchedulingDelayMonitor.runDelay(of: pid) != nil)
        #expect(SchedulingDelayMonitor.runDelay(of: 999_999_999) == nil)
        #endif
    }

    /// Threads that begin, wait and end at random between samples: the process's delay as the
    /// monitor sums it never falls, and it grows by exactly what the threads alive at both
    /// samples added plus what new threads brought (the ended ones' last wait is lost).
    @Test("the summed delay never falls when threads end", arguments: [1, 2, 3] as [UInt64])
    func summedDelayNeverFalls(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var threads: [Int32: UInt64] = [1: 500]
        var previous = threads
        var total: UInt64 = 0
        var nextTid: Int32 = 2
        for _ in 0..<2_000 {
            for tid in Array(threads.keys) {
                switch rng.below(10) {
                case 0: threads[tid] = nil  // ends
                case 1...5: threads[tid]! += UInt64(rng.below(1_000))  // waited
                default: break
                }
            }
            if rng.below(3) == 0 {
                threads[nextTid] = UInt64(rng.below(300))
                nextTid += 1
            }
            let added = SchedulingDelayMonitor.increase(from: previous, to: threads)
            let expected = threads.reduce(UInt64(0)) { sum, t in sum + t.value - (previous[t.key] ?? 0) }
            #expect(added == expected)
            let before = total
            total += added
            #expect(total >= before)
            previous = threads
        }
        #expect(SchedulingDelayMonitor.increase(from: [1: 900, 2: 50], to: [2: 60]) == 10)  // 1 ended
    }

    @Test("the delay over a span is the difference of the samples around it")
    func span() async throws {
        #if os(Linux)
        let monitor = SchedulingDelayMonitor()
        let pid = getpid()
        monitor.acquire(watching: [pid])
        let deadline = MonotonicClock.deadline(after: 30)
        while monitor.sampleCount(of: pid) < 3 && MonotonicClock.now() < deadline { usleep(2_000) }
        #expect(monitor.sampleCount(of: pid) >= 3)
        #expect(monitor.runQueueDelay(of: 12345678, from: 0, to: .max) == 0)  // not watched
        monitor.release(watching: [pid])
        #expect(monitor.sampleCount(of: pid) == 0)  // forgotten once no replay watches it
        #endif
    }
}
