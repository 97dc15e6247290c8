/// A growable FIFO ring buffer that also supports removal from the middle (selective receive).
/// Not thread-safe: its owner synchronizes.
package struct RingBuffer<Element> {
    private var storage: ContiguousArray<Element?>
    private var head = 0
    /// Number of elements.
    package private(set) var count = 0

    package init(capacity: Int = 4) {
        var c = 1
        while c < capacity { c <<= 1 }
        storage = ContiguousArray(repeating: nil, count: c)
    }

    package var isEmpty: Bool { count == 0 }

    @inline(__always) private func slot(_ i: Int) -> Int { (head &+ i) & (storage.count &- 1) }

    /// The element at logical position `i` (0 = oldest).
    @inline(__always) package subscript(i: Int) -> Element { storage[slot(i)]! }

    package mutating func append(_ e: Element) {
        if count == storage.count { grow() }
        storage[slot(count)] = e
        count &+= 1
    }

    package mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let e = storage[head]
        storage[head] = nil
        head = (head &+ 1) & (storage.count &- 1)
        count &-= 1
        return e
    }

    /// Removes and returns the element at logical position `i`, keeping the others in order.
    package mutating func remove(at i: Int) -> Element {
        precondition(i >= 0 && i < count)
        if i == 0 { return popFirst()! }
        let e = storage[slot(i)]!
        var j = i
        while j + 1 < count { storage[slot(j)] = storage[slot(j + 1)]; j += 1 }
        storage[slot(count - 1)] = nil
        count -= 1
        return e
    }

    /// Removes everything, returning the elements oldest first.
    package mutating func removeAll() -> [Element] {
        var out: [Element] = []
        out.reserveCapacity(count)
        while let e = popFirst() { out.append(e) }
        return out
    }

    private mutating func grow() {
        var new = ContiguousArray<Element?>(repeating: nil, count: storage.count * 2)
        for i in 0..<count { new[i] = storage[slot(i)] }
        storage = new
        head = 0
    }
}
