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
