/// Payload references (format 1.3, `docs/TRACE_FORMAT.md` 5.2–5.3): an event whose payload
/// bytes equal those of a recent event in the same block stores `k`, "the same bytes as the
/// k-th most recent event with payload bytes", instead of the bytes. Message bodies travel
/// written → read → (echoed) written → read, and each copy used to be stored again.
///
/// "Events with payload bytes" are those whose payload is bytes, written out or referenced
/// (not digests, not events without a payload). Both sides count them from the block's start,
/// so every block stays decodable on its own.
enum PayloadReference {
    /// How far back a reference reaches: `k` in `1...window`.
    static let window = 255
    /// Entries kept by both sides (a power of two above `window`).
    static let ringSize = 256
    /// The largest payload the writer looks up. Longer repeats are cheap for zstd's own match
    /// finder, and hashing them would cost the writer's thread more than it saves.
    static let maxLookupBytes = 1024
}

/// The writer's side: the recent payloads of the block being encoded (where their bytes are in
/// the block) and a hash table (XXH64 of the bytes) to find an equal one in one probe.
///
/// A class so that the encoder, a struct that already shares its `BlockBytes`, shares it too;
/// one `BlockEncoder` has one owner at a time (see `BlockBytes`).
final class PayloadMatcher {
    private static let bucketBits = 10
    /// Ring of the recent payloads: where each one's bytes are in the block, and its size.
    private let offsets: UnsafeMutablePointer<Int>
    private let counts: UnsafeMutablePointer<Int>
    /// hash → (sequence number + 1) of the latest payload with that hash; 0 = none.
    private let buckets: UnsafeMutablePointer<Int>
    /// Payloads with bytes so far in this block.
    private(set) var seq = 0

    init() {
        offsets = .allocate(capacity: PayloadReference.ringSize)
        counts = .allocate(capacity: PayloadReference.ringSize)
        buckets = .allocate(capacity: 1 << Self.bucketBits)
        buckets.initialize(repeating: 0, count: 1 << Self.bucketBits)
    }

    deinit {
        offsets.deallocate()
        counts.deallocate()
        buckets.deallocate()
    }

    /// Starts a new block.
    func reset() {
        guard seq > 0 else { return }
        buckets.update(repeating: 0, count: 1 << Self.bucketBits)
        seq = 0
    }

    /// Looks for a payload equal to `p` among the last `window`, given the block's memory:
    /// `k` > 0 if found (the event then stores `k`, not the bytes; `offset` = where the equal
    /// bytes are), else 0. `bucket` goes to `add` (-1: not looked up). Changes nothing.
    @inline(__always)
    func find(_ p: UnsafeRawBufferPointer, base: UnsafeRawPointer) -> (k: Int, bucket: Int, offset: Int) {
        let n = p.count
        guard n > 0, n <= PayloadReference.maxLookupBytes else { return (0, -1, 0) }
        let bucket = Int(truncatingIfNeeded: XXH64.hash(p) >> UInt64(64 - Self.bucketBits))
        let previous = buckets[bucket] - 1
        let k = seq - previous
        guard previous >= 0, k <= PayloadReference.window else { return (0, bucket, 0) }
        let old = previous & (PayloadReference.ringSize - 1)
        guard counts[old] == n, equalBytes(base + offsets[old], p.baseAddress!, n) else { return (0, bucket, 0) }
        return (k, bucket, offsets[old])
    }

    /// Notes the event's payload as the newest: `count` bytes at `offset` of the block (its own
    /// bytes, or the referenced ones), under `bucket` (from `find`; -1 = none).
    @inline(__always)
    func add(bucket: Int, offset: Int, count: Int) {
        let slot = seq & (PayloadReference.ringSize - 1)
        offsets[slot] = offset
        counts[slot] = count
        if bucket >= 0 { buckets[bucket] = seq + 1 }
        seq &+= 1
    }
}

/// The reader's side: where the bytes of the block's recent payloads are in the raw block.
struct PayloadRing {
    private var offsets = [Int](repeating: 0, count: PayloadReference.ringSize)
    private var counts = [Int](repeating: 0, count: PayloadReference.ringSize)
    /// Payloads with bytes so far in this block.
    private var seq = 0

    mutating func reset() { seq = 0 }

    /// Notes a payload written out at `offset` (of the raw block's bytes).
    @inline(__always)
    mutating func add(offset: Int, count: Int) {
        let slot = seq & (PayloadReference.ringSize - 1)
        offsets.withUnsafeMutableBufferPointer { $0[slot] = offset }
        counts.withUnsafeMutableBufferPointer { $0[slot] = count }
        seq &+= 1
    }

    /// Resolves reference `k` to the referenced bytes' place and notes it as the newest
    /// payload; nil when `k` reaches before the block's first payload or beyond the window.
    @inline(__always)
    mutating func resolve(_ k: UInt64) -> (offset: Int, count: Int)? {
        guard k >= 1, k <= UInt64(PayloadReference.window), k <= UInt64(seq) else { return nil }
        let old = (seq - Int(k)) & (PayloadReference.ringSize - 1)
        let found = (offsets[old], counts[old])
        add(offset: found.0, count: found.1)
        return found
    }
}

/// Whether `n` bytes at `a` and `b` are equal (small `n`: a plain loop beats a libc call).
@inline(__always)
func equalBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < n {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}
