#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The package's one clock for deadlines, timeouts and measured waits: CLOCK_MONOTONIC in
/// nanoseconds since an arbitrary fixed point. Every span is saturating, so a huge or infinite
/// timeout gives a deadline that never comes rather than an overflow. (Trace timestamps use the
/// runtime's `TraceClock`, which is calibrated against this clock.)
package enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point.
    @inline(__always)
    package static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Wall-clock nanoseconds since the Unix epoch, for the start time a trace header records.
    package static func wallClockNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// `now()` plus `ms` milliseconds.
    package static func deadline(afterMs ms: UInt64) -> UInt64 {
        let (ns, overflow) = ms.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? UInt64.max : adding(nanoseconds: ns, to: now())
    }

    /// `now()` plus `seconds`.
    package static func deadline(after seconds: Double) -> UInt64 {
        adding(seconds, to: now())
    }

    /// `start` plus `seconds`.
    package static func adding(_ seconds: Double, to start: UInt64) -> UInt64 {
        adding(nanoseconds: nanoseconds(seconds), to: start)
    }

    /// `start` plus `ns` nanoseconds.
    package static func adding(nanoseconds ns: UInt64, to start: UInt64) -> UInt64 {
        let (sum, overflow) = start.addingReportingOverflow(ns)
        return overflow ? UInt64.max : sum
    }

    /// `seconds` as nanoseconds, clamped to 0…`UInt64.max` (NaN counts as 0).
    package static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        let ns = seconds * 1e9
        return ns >= 18_446_744_073_709_549_568 ? UInt64.max : UInt64(ns)
    }
}
