/// A growable FIFO ring buffer that also supports removal from the middle (selective receive).
/// Elements are moved in and out (no reference-count traffic beyond the move). Not
/// thread-safe: its owner synchronizes.
package struct RingBuffer<Element>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private var head = 0
    /// Number of elements.
    package private(set) var count = 0

    package init(capacity: Int = 4) {
        var c = 1
        while c < capacity { c <<= 1 }
        self.capacity = c
        base = .allocate(capacity: c)
    }

    deinit {
        for i in 0..<count { (base + slot(i)).deinitialize(count: 1) }
        base.deallocate()
    }

    package var isEmpty: Bool { count == 0 }

    @inline(__always) private func slot(_ i: Int) -> Int { (head &+ i) & (capacity &- 1) }

    /// The element at logical position `i` (0 = oldest).
    @inline(__always)
    package subscript(i: Int) -> Element {
        unsafeAddress { UnsafePointer(base + slot(i)) }
    }

    @inline(__always)
    package mutating func append(_ e: consuming Element) {
        if count == capacity { grow() }
        (base + slot(count)).initialize(to: e)
        count &+= 1
    }

    @inline(__always)
    package mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let e = (base + head).move()
        head = (head &+ 1) & (capacity &- 1)
        count &-= 1
        return e
    }

    /// Removes and returns the element at logical position `i`, keeping the others in order.
    package mutating func remove(at i: Int) -> Element {
        precondition(i >= 0 && i < count, "ring buffer index out of range")
        if i == 0 { return popFirst()! }
        let e = (base + slot(i)).move()
        var j = i
        while j + 1 < count {
            (base + slot(j)).moveInitialize(from: base + slot(j + 1), count: 1)
            j += 1
        }
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
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        for i in 0..<count { (newBase + i).moveInitialize(from: base + slot(i), count: 1) }
        base.deallocate()
        base = newBase
        capacity *= 2
        head = 0
    }
}
