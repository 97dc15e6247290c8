/// Recently decoded small arrays, reused when the next one has the same contents: ping-pong
/// traffic repeats payloads (written, then read) and tag sets, and sharing an existing array
/// (copy-on-write keeps it safe) saves an allocation per event.
struct RecentArrays<Element: Equatable> {
    private var items: [[Element]] = []
    private var next = 0
    static var slots: Int { 4 }
    static var maxCount: Int { 64 }

    /// An array equal to the `count` elements at `p`, shared with a recent one when possible.
    mutating func array(_ p: UnsafeRawPointer, count: Int, as: Element.Type) -> [Element] {
        let typed = UnsafeBufferPointer(start: p.assumingMemoryBound(to: Element.self), count: count)
        guard count <= Self.maxCount else { return Array(typed) }
        for item in items where item.count == count {
            if item.withUnsafeBufferPointer({ $0.elementsEqual(typed) }) { return item }
        }
        let fresh = Array(typed)
        if items.count < Self.slots { items.append(fresh) } else { items[next] = fresh }
        next = (next + 1) % Self.slots
        return fresh
    }

    /// An array equal to `values`, shared with a recent one when possible.
    mutating func array(_ values: [Element]) -> [Element] {
        for item in items where item == values { return item }
        if items.count < Self.slots { items.append(values) } else { items[next] = values }
        next = (next + 1) % Self.slots
        return values
    }
}
