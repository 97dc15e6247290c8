import LunaSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When a blocking network operation gives up: never, or at a point on the monotonic clock.
///
/// Built from lunatic's millisecond timeouts, where `UInt64.max` means "no timeout".
struct Deadline: Sendable {
    /// Monotonic nanoseconds at which the wait expires; `nil` = wait forever.
    let expiry: UInt64?

    /// A deadline `timeoutMs` milliseconds from now; `UInt64.max` (or `nil`) waits forever.
    init(timeoutMs: UInt64?) {
        guard let ms = timeoutMs, ms != UInt64.max else {
            expiry = nil
            return
        }
        let (ns, overflow) = ms.multipliedReportingOverflow(by: 1_000_000)
        let (sum, overflow2) = MonotonicClock.now().addingReportingOverflow(ns)
        expiry = overflow || overflow2 ? nil : sum
    }

    /// No deadline.
    static let never = Deadline(timeoutMs: nil)

    /// Milliseconds left, rounded up, as `poll` wants them: -1 = forever, 0 = expired.
    var pollTimeout: Int32 {
        guard let expiry else { return -1 }
        let now = MonotonicClock.now()
        if now >= expiry { return 0 }
        let ms = (expiry - now + 999_999) / 1_000_000
        return Int32(clamping: ms)
    }

    /// Whether the deadline has passed.
    var hasExpired: Bool {
        guard let expiry else { return false }
        return MonotonicClock.now() >= expiry
    }
}
