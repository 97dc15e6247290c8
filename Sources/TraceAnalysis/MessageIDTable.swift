import TraceFormat

/// A map from message ids (never 0) to small values, for the tracker's per-event lookups.
///
/// Open addressing with linear probing and a multiplicative hash: a lookup of the increasing
/// ids a runtime hands out costs a multiply and one or two array reads, where `Dictionary`
/// runs SipHash. No entry sits more than `maxDisplacement` slots from where it hashes; a file
/// whose ids defeat the hash (only a crafted one could) switches the table to a `Dictionary`
/// for good, so hostile ids cost speed, never a hang.
package struct MessageIDTable<Value> {
    private var keys: [MessageID]  // 0 = empty
    private var values: [Value?]
    private var count = 0
    private var shift: UInt64
    private var fallback: [MessageID: Value]?
    private static var maxDisplacement: Int { 64 }

    /// An empty table.
    package init() {
        keys = [MessageID](repeating: 0, count: 1024)
        values = [Value?](repeating: nil, count: 1024)
        shift = 64 - 10
    }

    /// Number of ids mapped.
    package var entryCount: Int { fallback?.count ?? count }

    /// Whether the table gave up hashing for a `Dictionary` (crafted ids).
    package var usesFallback: Bool { fallback != nil }

    @inline(__always)
    private func home(_ id: MessageID) -> Int { Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// Where `id` is, or nil.
    @inline(__always)
    private func position(_ id: MessageID) -> Int? {
        let mask = keys.count - 1
        var i = home(id)
        for _ in 0...Self.maxDisplacement {
            let k = keys[i]
            if k == id { return i }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
        return nil
    }

    /// The value of `id`, or nil; setting nil removes it.
    package subscript(id: MessageID) -> Value? {
        @inline(__always) get {
            if fallback != nil { return fallback![id] }
            guard let i = position(id) else { return nil }
            return values[i]
        }
        set {
            if fallback != nil { fallback![id] = newValue; return }
            if let newValue { insert(id, newValue) } else if let i = position(id) { remove(at: i) }
        }
    }

    /// The ids mapped, in no particular order.
    package var ids: [MessageID] {
        if let fallback { return Array(fallback.keys) }
        return keys.filter { $0 != 0 }
    }

    private mutating func insert(_ id: MessageID, _ value: Value) {
        precondition(id != 0, "message id 0 is never tracked")
        if let i = position(id) { values[i] = value; return }
        if (count + 1) * 2 > keys.count { grow(); if fallback != nil { fallback![id] = value; return } }
        let mask = keys.count - 1
        var i = home(id)
        for _ in 0...Self.maxDisplacement {
            if keys[i] == 0 {
                keys[i] = id
                values[i] = value
                count += 1
                return
            }
            i = (i + 1) & mask
        }
        switchToDictionary()
        fallback![id] = value
    }

    /// Empties slot `i`, moving later entries of its run back so no lookup stops early.
    private mutating func remove(at i: Int) {
        let mask = keys.count - 1
        var hole = i, j = i
        while true {
            j = (j + 1) & mask
            let k = keys[j]
            if k == 0 { break }
            // Entry k may fill the hole if its home is not cyclically within (hole, j].
            let h = home(k)
            let homeAfterHole = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !homeAfterHole {
                keys[hole] = k
                values[hole] = values[j]
                hole = j
            }
        }
        keys[hole] = 0
        values[hole] = nil
        count -= 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [MessageID](repeating: 0, count: oldKeys.count * 2)
        values = [Value?](repeating: nil, count: oldKeys.count * 2)
        shift -= 1
        count = 0
        for (k, v) in zip(oldKeys, oldValues) where k != 0 {
            insert(k, v!)
            if fallback != nil {
                // Too many collisions even at the larger size: keep everything in the dictionary.
                for (k2, v2) in zip(oldKeys, oldValues) where k2 != 0 { fallback![k2] = v2! }
                return
            }
        }
    }

    private mutating func switchToDictionary() {
        var all: [MessageID: Value] = [:]
        for (k, v) in zip(keys, values) where k != 0 { all[k] = v! }
        fallback = all
        keys = [0]
        values = [nil]
        count = 0
    }
}
