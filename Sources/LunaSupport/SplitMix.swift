/// The package's one seeded PRNG (SplitMix64): the same seed gives the same sequence on every
/// platform and Swift version, which `SystemRandomNumberGenerator` does not promise. The fuzzer's
/// workloads and the tests' generated inputs come from it, so a seed reproduces them; its output
/// sequence must not change (docs/FUZZING.md and the tests cite seeds).
package struct SplitMix: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator started from `seed`.
    package init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<n` (n > 0), by multiply-shift (no modulo bias worth caring about here).
    package mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int((UInt128(next()) * UInt128(n)) >> 64)
    }

    /// A value in `range`.
    package mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// True with probability `p`.
    package mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    /// One element of a non-empty array.
    package mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// An index chosen with the given weights (at least one positive).
    package mutating func weighted(_ weights: [Int]) -> Int {
        let total = weights.reduce(0, +)
        var r = below(total)
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return weights.count - 1
    }
}
