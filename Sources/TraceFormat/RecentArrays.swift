/// Recently decoded small arrays, reused when the next one has the same contents: ping-pong
/// traffic repeats payloads (written, then read) and tag sets, and sharing an existing array
/// (copy-on-write keeps it safe) saves an allocation per event.
///
/// The slots are compared in place through their buffers (a loop over the items would retain
/// and release each one), with `memcmp`-like raw comparison of the element bytes: the element
/// types are plain integers, whose equality is their bytes'.
struct RecentArrays<Element: BitwiseCopyable & Equatable> {
    private var items: [[Element]] = []
    private var next = 0
    static var slots: Int { 4 }
    static var maxCount: Int { 64 }

    /// An array equal to the `count` elements at `p`, shared with a recent one when possible.
    @inline(__always)
    mutating func array(_ p: UnsafeRawPointer, count: Int, as: Element.Type) -> [Element] {
        guard count <= Self.maxCount else {
            return Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Element.self), count: count))
        }
        if let i = find(p, count: count) { return items[i] }
        return remember(Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Element.self), count: count)))
    }

    /// An array equal to `values`, shared with a recent one when possible.
    mutating func array(_ values: [Element]) -> [Element] {
        let found = values.withUnsafeBytes { find($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: values.count) }
        if let found { return items[found] }
        return remember(values)
    }

    /// The slot holding exactly the `count` elements at `p`, if any.
    @inline(__always)
    private func find(_ p: UnsafeRawPointer, count: Int) -> Int? {
        let bytes = count * MemoryLayout<Element>.stride
        return items.withUnsafeBufferPointer { slots in
            for i in slots.indices where slots[i].count == count {
                let same = slots[i].withUnsafeBytes { stored in
                    bytes == 0 || equalBytes(stored.baseAddress!, p, bytes)
                }
                if same { return i }
            }
            return nil
        }
    }

    private mutating func remember(_ fresh: [Element]) -> [Element] {
        if items.count < Self.slots { items.append(fresh) } else { items[next] = fresh }
        next = (next + 1) % Self.slots
        return fresh
    }
}
