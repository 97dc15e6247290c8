import LunaSupport
import Testing

@testable import LunaRuntime
@testable import TraceFormat

/// The trace timestamp clock follows CLOCK_MONOTONIC and never goes backwards.
@Suite struct TraceClockTests {
    @Test func followsTheMonotonicClockAndIsMonotonic() async throws {
        let clock = TraceClock()
        let m0 = MonotonicClock.now()
        let t0 = clock.now()
        var last = t0
        var backwards = 0
        for _ in 0..<100_000 {
            let t = clock.now()
            if t < last { backwards += 1 }
            last = t
        }
        try await Task.sleep(nanoseconds: 50_000_000)
        let t1 = clock.now()
        let m1 = MonotonicClock.now()
        #expect(backwards == 0)
        let traced = Double(t1 - t0), real = Double(m1 - m0)
        #expect(abs(traced - real) < real * 0.01 + 200_000, "trace clock \(traced) ns vs monotonic \(real) ns")
    }

    @Test func environmentTimeStartsNearZero() {
        let env = Environment()
        #expect(env.now() < 1_000_000_000)
    }
}
