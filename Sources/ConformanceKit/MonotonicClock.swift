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
    static func deadline(after seconds: Double) -> UInt64 {
        now() &+ UInt64(max(0, seconds) * 1e9)
    }
}
