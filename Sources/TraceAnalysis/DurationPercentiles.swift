/// Percentiles of a stream of durations in bounded memory.
///
/// The first `exactLimit` samples are kept and give exact percentiles; past that they are
/// folded into a log-linear histogram (64 sub-buckets per power of two, relative error below
/// 1.6 %), so a million samples cost a few kilobytes.
package struct DurationPercentiles: Sendable {
    private var exact: [UInt64] = []
    /// Counts per bucket, by `bucketIndex` (which orders buckets as their values); empty until
    /// the exact samples are folded.
    private var buckets: [UInt64] = []
    private let exactLimit: Int
    /// Number of samples added.
    package private(set) var count: UInt64 = 0
    /// The largest sample.
    package private(set) var maximum: UInt64 = 0
    /// The smallest sample.
    package private(set) var minimum: UInt64 = .max
    private var total: Double = 0

    /// An empty set of samples.
    package init(exactLimit: Int = 100_000) { self.exactLimit = exactLimit }

    /// Adds one sample.
    package mutating func add(_ value: UInt64) {
        count += 1
        maximum = max(maximum, value)
        minimum = min(minimum, value)
        total += Double(value)
        if buckets.isEmpty && exact.count < exactLimit {
            exact.append(value)
            return
        }
        if buckets.isEmpty {
            buckets = [UInt64](repeating: 0, count: Self.bucketCount)
            for v in exact { buckets[Self.bucketIndex(Self.bucket(v))] += 1 }
            exact = []
        }
        buckets[Self.bucketIndex(Self.bucket(value))] += 1
    }

    /// The mean, or nil without samples.
    package var mean: UInt64? { count == 0 ? nil : UInt64(total / Double(count)) }

    /// The `p`-th percentile (0…100) by nearest rank, or nil without samples.
    package func percentile(_ p: Double) -> UInt64? {
        percentiles([p])?.first
    }

    /// The percentiles `ps` (each 0…100) by nearest rank, or nil without samples. The exact
    /// samples are sorted once for all of them.
    package func percentiles(_ ps: [Double]) -> [UInt64]? {
        guard count > 0 else { return nil }
        if buckets.isEmpty {
            let sorted = exact.sorted()
            return ps.map { sorted[Int(min(rank($0), UInt64(sorted.count))) - 1] }
        }
        return ps.map { fromBuckets(rank: rank($0)) }
    }

    /// The nearest rank of the `p`-th percentile.
    private func rank(_ p: Double) -> UInt64 {
        max(1, UInt64((p / 100 * Double(count)).rounded(.up)))
    }

    /// The value of rank `rank` from the histogram.
    private func fromBuckets(rank: UInt64) -> UInt64 {
        var seen: UInt64 = 0
        for (index, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return min(maximum, Self.representative(Self.bucketKey(index))) }
        }
        return maximum
    }

    private static let subBits: UInt64 = 6

    /// Bucket key: values below 64 are exact; above, (exponent, top 6 bits of mantissa).
    private static func bucket(_ v: UInt64) -> UInt64 {
        if v < (1 << subBits) { return v }
        let exponent = UInt64(63 - v.leadingZeroBitCount)
        let mantissa = (v >> (exponent - subBits)) & ((1 << subBits) - 1)
        return (exponent << subBits) | mantissa | (1 << 62)
    }

    /// Buckets: the 64 exact small values, then (exponent, mantissa) for exponents 6…63.
    private static let bucketCount = 64 + 64 << subBits

    /// A bucket key's place in `buckets`: keys in increasing order of the values they hold.
    @inline(__always)
    private static func bucketIndex(_ key: UInt64) -> Int {
        key & (1 << 62) == 0 ? Int(key) : 64 + Int(key & ~(1 << 62))
    }

    private static func bucketKey(_ index: Int) -> UInt64 {
        index < 64 ? UInt64(index) : UInt64(index - 64) | (1 << 62)
    }

    private static func representative(_ key: UInt64) -> UInt64 {
        if key & (1 << 62) == 0 { return key }
        let k = key & ~(1 << 62)
        let exponent = k >> subBits
        let mantissa = k & ((1 << subBits) - 1)
        let low = (1 << exponent) | (mantissa << (exponent - subBits))
        let width: UInt64 = 1 << (exponent - subBits)
        return low + width / 2
    }
}
