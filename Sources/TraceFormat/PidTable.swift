/// Map from process id to the end time of its previous event in the current block: an
/// open-addressing hash table (the encoder and decoder look it up once per event, where a
/// `Dictionary`'s SipHash costs more than the rest of the event).
struct PidTable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var occupied: [Bool]
    private var shift: UInt64
    private(set) var count = 0

    init(capacity: Int = 64) {
        var n = 16
        while n < capacity { n <<= 1 }
        keys = Array(repeating: 0, count: n)
        values = Array(repeating: 0, count: n)
        occupied = Array(repeating: false, count: n)
        shift = UInt64(64 - n.trailingZeroBitCount)
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Stores `value` for `key` and returns the previous value (0 when absent).
    @inline(__always)
    mutating func exchange(_ key: UInt64, _ value: UInt64) -> UInt64 {
        update(key) { _ in value }
    }

    /// Replaces the value `v` of `key` (0 when absent) by `next(v)`; returns `v`.
    @inline(__always)
    mutating func update(_ key: UInt64, _ next: (UInt64) -> UInt64) -> UInt64 {
        let mask = keys.count - 1
        var i = slot(key)
        while occupied[i] {
            if keys[i] == key {
                let old = values[i]
                values[i] = next(old)
                return old
            }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = next(0)
        occupied[i] = true
        count += 1
        if count * 2 > keys.count { grow() }
        return 0
    }

    private mutating func grow() {
        var bigger = PidTable(capacity: keys.count * 2)
        for i in 0..<keys.count where occupied[i] { _ = bigger.exchange(keys[i], values[i]) }
        self = bigger
    }

    /// Forgets every entry (keeps the capacity).
    mutating func removeAll() {
        guard count > 0 else { return }
        for i in 0..<occupied.count { occupied[i] = false }
        count = 0
    }
}
