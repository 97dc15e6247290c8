#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic nanoseconds, for call timeouts and for measuring how long a receive waited.
enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// `seconds` from now, in the same nanoseconds.
    /// Saturates: a huge or infinite span gives a deadline that never comes, not an overflow.
    static func deadline(after seconds: Double) -> UInt64 {
        let t = now()
        let span = nanoseconds(seconds)
        return span > UInt64.max - t ? UInt64.max : t + span
    }

    /// `seconds` as nanoseconds, clamped to 0…`UInt64.max` (NaN counts as 0).
    static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        let ns = seconds * 1e9
        return ns >= 18_446_744_073_709_549_568 ? UInt64.max : UInt64(ns)
    }

    /// `start` plus `seconds`, saturating.
    static func adding(_ seconds: Double, to start: UInt64) -> UInt64 {
        let span = nanoseconds(seconds)
        return span > UInt64.max - start ? UInt64.max : start + span
    }
}
