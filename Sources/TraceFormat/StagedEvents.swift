/// Events as `TraceWriter.record` takes them, not yet encoded: the producing threads only copy
/// each event here (under the writer's lock), and the writer's background queue encodes them
/// (`BlockAssembler`), so the varints, per-process time deltas and message-id deltas of the
/// block format cost the producers nothing.
///
/// Each entry starts on an 8-byte boundary with a tag (an `Int`):
/// - ≥ 0: an `EventRecord` follows, then that many payload bytes (padded to 8);
/// - `noPayload`: an `EventRecord` follows, without payload;
/// - `fullEvent`: the next of `events` (a `TraceEvent`, the general path), in order.
struct StagedEvents {
    private(set) var storage: BlockBytes
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    /// Bytes used.
    private(set) var bytes = 0
    /// Entries staged.
    private(set) var eventCount = 0
    /// The `TraceEvent`s of the `fullEvent` entries, in order.
    private var events: [TraceEvent] = []

    static let noPayload = -1
    static let fullEvent = -2
    /// Tag and record: the size of an entry without payload.
    static let fixedBytes = 8 + (MemoryLayout<EventRecord>.stride + 7) & ~7

    init(storage: BlockBytes) {
        self.storage = storage
        base = storage.base
        capacity = storage.capacity
    }

    /// Copies one record and its payload bytes (`nil`: none).
    @inline(__always)
    mutating func append(_ record: EventRecord, payload: UnsafeRawBufferPointer?) {
        let n = payload?.count ?? 0
        let size = StagedEvents.fixedBytes &+ ((n &+ 7) & ~7)
        if bytes &+ size > capacity { grow(bytes &+ size) }
        let p = base + bytes
        p.storeBytes(of: payload == nil ? StagedEvents.noPayload : n, as: Int.self)
        (p + 8).storeBytes(of: record, as: EventRecord.self)
        if n > 0 { (p + StagedEvents.fixedBytes).copyMemory(from: payload!.baseAddress!, byteCount: n) }
        bytes &+= size
        eventCount &+= 1
    }

    /// Stages one event: as a record when it is plain (what `BlockEncoder.encode(_:capture:)`
    /// does first too, so the bytes are the same), else kept whole.
    mutating func append(_ event: TraceEvent) {
        if let r = EventRecord(plain: event) {
            switch event.payload {
            case .none: append(r, payload: nil); return
            case .bytes(let b): b.withUnsafeBytes { append(r, payload: $0) }; return
            case .digest: break
            }
        }
        keep(event)
    }

    /// Keeps one general event (tags, text, a trap, a digest or more arguments).
    private mutating func keep(_ event: TraceEvent) {
        if bytes &+ 8 > capacity { grow(bytes &+ 8) }
        (base + bytes).storeBytes(of: StagedEvents.fullEvent, as: Int.self)
        bytes &+= 8
        eventCount &+= 1
        events.append(event)
    }

    private mutating func grow(_ needed: Int) {
        storage.enlarge(toHold: needed, keeping: bytes)
        base = storage.base
        capacity = storage.capacity
    }

    /// Hands the staged entries out and starts again, empty, in `next`.
    mutating func take(next: BlockBytes, since: UInt64, cut: Bool) -> StagedBatch {
        let batch = StagedBatch(
            storage: storage, bytes: bytes, eventCount: eventCount, events: events, since: since, cut: cut)
        storage = next
        base = next.base
        capacity = next.capacity
        bytes = 0
        eventCount = 0
        events = []
        return batch
    }
}

/// Staged events on their way to the writer's queue.
struct StagedBatch: @unchecked Sendable {  // BlockBytes: see its comment
    var storage: BlockBytes
    var bytes: Int
    var eventCount: Int
    var events: [TraceEvent]
    /// Monotonic ns when the first of these events was staged (0 = blocks have no maximum age).
    var since: UInt64
    /// Whether the block ends after these events (a flush, the close, or a block's age).
    var cut: Bool

    /// Calls `body` with each entry in order: a record and its payload, or a general event.
    @inline(__always)
    func forEach(
        _ body: (_ record: EventRecord, _ payload: UnsafeRawBufferPointer?) -> Void,
        event: (TraceEvent) -> Void
    ) {
        var p = UnsafeRawPointer(storage.base)
        let end = p + bytes
        var next = 0
        while p < end {
            let tag = p.load(as: Int.self)
            if tag == StagedEvents.fullEvent {
                event(events[next])
                next &+= 1
                p += 8
                continue
            }
            let record = (p + 8).load(as: EventRecord.self)
            if tag == StagedEvents.noPayload {
                body(record, nil)
                p += StagedEvents.fixedBytes
            } else {
                body(record, UnsafeRawBufferPointer(start: p + StagedEvents.fixedBytes, count: tag))
                p += StagedEvents.fixedBytes &+ ((tag &+ 7) & ~7)
            }
        }
    }
}
