import CLunaClock
import LunaSupport
import Synchronization

/// The clock of trace timestamps: nanoseconds since an anchor, read from the CPU's cycle
/// counter rather than `clock_gettime`, which costs several times more per event (figures in
/// docs/BENCHMARKS.md). The counter's rate is calibrated against CLOCK_MONOTONIC, first over
/// 2 ms, then refined each time a clock is anchored (the longer the baseline, the better).
/// Where the counter is missing or not invariant, CLOCK_MONOTONIC is read directly.
///
/// Timeouts and deadlines never use this clock: only timestamps in events do.
package struct TraceClock: Sendable {
    private let baseCycles: UInt64
    private let baseNanos: UInt64
    /// Nanoseconds per cycle, as a 32.32 fixed-point number; 0 = read CLOCK_MONOTONIC.
    private let multiplier: UInt64

    /// A clock reading 0 now.
    package init() {
        let (cycles, nanos) = Self.sample()
        baseCycles = cycles
        baseNanos = nanos
        multiplier = Self.currentMultiplier(cycles: cycles, nanos: nanos)
    }

    /// Nanoseconds since the anchor.
    @inline(__always)
    package func now() -> UInt64 {
        if multiplier == 0 { return MonotonicClock.now() &- baseNanos }
        let c = luna_cycle_counter()
        guard c > baseCycles else { return 0 }
        let (hi, lo) = (c &- baseCycles).multipliedFullWidth(by: multiplier)
        return (hi << 32) | (lo >> 32)
    }

    /// Monotonic nanoseconds of the anchor.
    package var anchorMonotonicNanos: UInt64 { baseNanos }

    // MARK: calibration (process-wide)

    private static let invariant = luna_cycle_counter_is_invariant() != 0
    /// The first calibration sample (cycles, monotonic ns) and the multiplier.
    private static let first: (cycles: UInt64, nanos: UInt64, multiplier: UInt64) = {
        guard invariant else { return (0, 0, 0) }
        let (c0, n0) = sample()
        var c1 = c0, n1 = n0
        while n1 &- n0 < 2_000_000 { (c1, n1) = sample() }
        return (c0, n0, ratio(cycles: c1 &- c0, nanos: n1 &- n0))
    }()
    private static let refined = Atomic<UInt64>(0)

    private static func currentMultiplier(cycles: UInt64, nanos: UInt64) -> UInt64 {
        let f = first
        guard f.multiplier != 0 else { return 0 }
        // Refine from the first sample once the baseline is long enough to be more precise.
        if nanos &- f.nanos >= 50_000_000, cycles > f.cycles {
            let m = ratio(cycles: cycles &- f.cycles, nanos: nanos &- f.nanos)
            if m != 0 { refined.store(m, ordering: .relaxed) }
        }
        let r = refined.load(ordering: .relaxed)
        return r != 0 ? r : f.multiplier
    }

    /// ns/cycle in 32.32 fixed point; 0 when the counter looks unusable (below 10 MHz or
    /// above 100 GHz).
    private static func ratio(cycles: UInt64, nanos: UInt64) -> UInt64 {
        guard cycles > 0 else { return 0 }
        let perCycle = Double(nanos) / Double(cycles)
        guard perCycle > 0.01, perCycle < 100 else { return 0 }
        return UInt64(perCycle * 4_294_967_296.0)
    }

    /// A (cycles, monotonic ns) pair read as close together as possible.
    private static func sample() -> (UInt64, UInt64) {
        var best: (UInt64, UInt64) = (0, 0)
        var bestSpread = UInt64.max
        for _ in 0..<3 {
            let a = luna_cycle_counter()
            let n = MonotonicClock.now()
            let b = luna_cycle_counter()
            if b &- a < bestSpread { bestSpread = b &- a; best = (a &+ (b &- a) / 2, n) }
        }
        return best
    }
}
