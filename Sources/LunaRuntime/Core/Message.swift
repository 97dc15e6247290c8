import TraceFormat

/// A message (R-MSG-1): a data message (tag, byte buffer, read position, ordered resource
/// slots) or a LinkDied message (only the link's tag).
///
/// Fields are `@exclusivity(unchecked)`: the single-owner rule below already excludes
/// overlapping access, and the dynamic checks cost a quarter of the message throughput.
///
/// Owned by one place at a time: a scratch area, a mailbox queue (under its lock), or the
/// sender between the two; never shared.
package final class Message {
    /// The tag; 0 = no tag (R-MSG-2). For a LinkDied message, the link's tag.
    @exclusivity(unchecked) package var tag: Int64
    /// Whether this is a LinkDied message.
    package let isLinkDied: Bool
    /// For a LinkDied message, the process that died.
    package let deadProcess: ProcessID
    /// The bytes written so far (R-MSG-5).
    @exclusivity(unchecked) package var buffer: [UInt8]
    /// The read position; may lie past the end after a seek (R-MSG-7).
    @exclusivity(unchecked) package var position: UInt64 = 0
    /// The resource slots, in push order across kinds (R-RES-2); nil once taken (R-RES-5).
    @exclusivity(unchecked) package var slots: [(any Resource)?] = []
    /// The trace identity (0 when not traced).
    @exclusivity(unchecked) package private(set) var id: MessageID
    /// Arrival number in the receiving mailbox (for send_receive_skip_search).
    @exclusivity(unchecked) package var arrival: UInt64 = 0
    /// Whether a receive has taken it (so replacing it in a scratch area is no loss).
    @exclusivity(unchecked) package var received = false

    /// Largest capacity hint honoured up front; bigger hints grow on demand (R-MSG-4).
    static let maximumReservation = 1 << 16

    /// A data message.
    package init(tag: Int64, capacity: UInt64, id: MessageID) {
        self.tag = tag
        self.isLinkDied = false
        self.deadProcess = 0
        self.id = id
        buffer = []
        if capacity > 0 { buffer.reserveCapacity(Int(min(capacity, UInt64(Message.maximumReservation)))) }
    }

    /// Largest buffer a message keeps when it is reused for the next `create_data`.
    static let maximumReusedCapacity = 1 << 16

    /// Whether this message, once received and done with, may become the next data message of
    /// the same process (`reuse`): a received data message with no resources left and a
    /// modest buffer. The caller also checks that nothing else references it.
    @inline(__always)
    package var isReusable: Bool {
        received && !isLinkDied && slots.isEmpty && buffer.capacity <= Message.maximumReusedCapacity
    }

    /// Turns a finished message into a fresh data message (as `init(tag:capacity:id:)` would
    /// make it), keeping its object and its buffer's memory.
    @inline(__always)
    package func reuse(tag: Int64, capacity: UInt64, id: MessageID) {
        self.tag = tag
        self.id = id
        buffer.removeAll(keepingCapacity: true)
        if capacity > UInt64(buffer.capacity) {
            buffer.reserveCapacity(Int(min(capacity, UInt64(Message.maximumReservation))))
        }
        position = 0
        arrival = 0
        received = false
    }

    /// A LinkDied message about `dead`, carrying the link's `tag`.
    package init(linkDiedFrom dead: ProcessID, tag: Int64, id: MessageID) {
        self.tag = tag
        self.isLinkDied = true
        self.deadProcess = dead
        self.id = id
        buffer = []
    }

    /// Whether a receive with tag set `tags` takes it: an empty set takes anything; otherwise
    /// the tag must be in the set, and untagged messages never match (R-RECV-2, R-RECV-3).
    @inline(__always)
    package func matches(_ tags: [Int64]) -> Bool {
        if tags.isEmpty { return true }
        if tag == 0 { return false }
        for t in tags where t == tag { return true }
        return false
    }

    /// The resources still in slots, as (slot index, kind).
    package var remainingResources: [(Int, ResourceKind)] {
        slots.enumerated().compactMap { i, r in r.map { (i, $0.resourceKind) } }
    }
}
