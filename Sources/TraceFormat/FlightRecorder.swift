import Synchronization

/// A flight recorder: keeps the most recent events of a recording in a ring of bounded size in
/// memory, and writes them as a trace when asked (see `docs/TRACE_FORMAT.md`, "Flight
/// recorder").
///
/// Events are encoded exactly as `TraceWriter`'s background queue encodes them, into chunks of
/// fixed size that are raw blocks, under the recorder's lock. A chunk that has no room for the
/// next event joins the ring; when the ring is full its oldest chunk is dropped and its memory
/// reused. Nothing is compressed or written while recording. `dump` compresses the
/// ring's chunks into a trace file whose header says how much came before its first event
/// (`TraceWindow`); recording goes on meanwhile, under no lock of the dump's.
///
/// Memory: the chunks never take more than `Options.capacityBytes` together, whatever the
/// events are (an event larger than half a chunk is stored smaller: payload as a digest, then
/// texts and lists cut); a dump adds one compressed chunk and the frame index. In format 2.0 the
/// chunk being filled keeps its events' times in two side buffers until it is sealed (the time
/// column then moves into the chunk, whose room was kept for it): they hold less than a chunk's
/// bytes, in buffers that grow by doubling, so at most two chunks more.
public final class FlightRecorder: TraceSink {
    /// Recorder settings.
    public struct Options: Sendable {
        /// The ring's size in bytes: at most this much memory holds events.
        public var capacityBytes: Int
        /// Which payload bytes are kept (default: all).
        public var payloadCapture: PayloadCapture
        /// zstd level of the dumps (as `TraceWriter.Options.compressionLevel`).
        public var compressionLevel: Int

        /// The smallest ring: 64 KiB (four chunks of 16 KiB).
        public static let minimumCapacityBytes = 64 << 10

        /// Creates options; `capacityBytes` is raised to `minimumCapacityBytes` if smaller.
        public init(capacityBytes: Int, payloadCapture: PayloadCapture = .full, compressionLevel: Int = 1) {
            self.capacityBytes = max(capacityBytes, Options.minimumCapacityBytes)
            self.payloadCapture = payloadCapture
            self.compressionLevel = compressionLevel
        }

        /// Bytes of one chunk (one block of a dump): a sixteenth of the ring, from 16 KiB to
        /// `TraceWriter.blockSoftLimitBytes`. A dump that keeps recording drops at most one
        /// chunk's worth of the oldest events to go on (see `dump`).
        public var chunkBytes: Int { min(max(capacityBytes / 16, 16 << 10), TraceWriter.blockSoftLimitBytes) }
    }

    /// One sealed chunk of the ring. Its fields change only under the ring's lock.
    final class Chunk: @unchecked Sendable {
        let body: BlockBody
        /// A dump is writing it: its memory may not be reused yet.
        var pinned = false
        /// The ring dropped it while pinned: the dump hands its memory back when done.
        var detached = false
        init(_ body: BlockBody) { self.body = body }
    }

    struct Ring {
        var encoder: BlockEncoder
        /// Sealed chunks, oldest first.
        var chunks: [Chunk] = []
        /// Chunk memory free for reuse.
        var spare: [BlockBytes] = []
        /// Chunk memories in existence (the encoder's, the ring's, spares, and dropped chunks
        /// a dump still writes): never more than `maxChunks`.
        var storages = 1
        /// Events recorded, kept or not.
        var recorded: UInt64 = 0
        /// Events dropped so far, their raw bytes, and the latest end time among them.
        var dropped: UInt64 = 0
        var droppedBytes: UInt64 = 0
        var droppedUntil: UInt64 = 0
        /// Set by the final dump: later events are ignored.
        var closed = false
    }

    /// The header of every dump (each gets its own `window`).
    public let header: TraceHeader
    /// The settings.
    public let options: Options
    let chunkBytes: Int
    let maxChunks: Int
    /// The most ring bytes one event may take.
    let maxEventBytes: Int
    let capture: PayloadCapture
    let ring: Locked<Ring>
    /// Serialises dumps (a sleeping lock: a dump holds it while it writes); holds the final
    /// dump once made.
    let dumps = Mutex<DumpState>(DumpState())

    /// A recorder whose dumps carry `header` (its `window` is replaced by each dump's).
    public init(header: TraceHeader, options: Options) {
        self.header = header
        self.options = options
        chunkBytes = options.chunkBytes
        maxChunks = max(2, options.capacityBytes / options.chunkBytes)
        maxEventBytes = chunkBytes / 2
        capture = options.payloadCapture
        ring = Locked(
            Ring(
                encoder: BlockEncoder(
                    unit: header.timeUnitNanos, storage: BlockBytes(capacity: options.chunkBytes),
                    timesInColumn: header.timesInColumn)))
    }

    /// Events recorded so far (in the ring or dropped from it).
    public var recordedEvents: UInt64 { ring.withLock { $0.recorded } }

    /// Events dropped from the ring so far.
    public var droppedEvents: UInt64 { ring.withLock { $0.dropped } }

    /// Memory the ring's chunks take (at most `options.capacityBytes`).
    public var memoryBytes: Int { ring.withLock { $0.storages } * chunkBytes }

    // MARK: recording

    /// Records one event (any thread); ignored after the final dump.
    public func record(_ event: TraceEvent) {
        if BlockEncoder.maxEventBytes(event, capture: capture) > maxEventBytes {
            let smaller = shrunk(event)
            let need = BlockEncoder.maxEventBytes(smaller, capture: capture)
            ring.withLock { r in
                guard !r.closed else { return }
                makeRoom(&r, need)
                r.encoder.encode(smaller, capture: capture)
                r.recorded &+= 1
            }
            return
        }
        ring.withLock { r in
            guard !r.closed else { return }
            makeRoom(&r, BlockEncoder.maxEventBytes(event, capture: capture))
            r.encoder.encode(event, capture: capture)
            r.recorded &+= 1
        }
    }

    /// Records one event given as plain fields and borrowed payload bytes (the runtime's fast
    /// path; see `TraceSink`).
    public func record(_ event: EventRecord, payload: UnsafeRawBufferPointer?) {
        var capture = self.capture
        var need = BlockEncoder.maxRecordBytes(payloadBytes: payload?.count, capture: capture)
        if need > maxEventBytes {
            capture = .digest
            need = BlockEncoder.maxRecordBytes(payloadBytes: payload?.count, capture: capture)
        }
        ring.withLock { r in
            guard !r.closed else { return }
            makeRoom(&r, need)
            r.encoder.encode(event, payload: payload, capture: capture)
            r.recorded &+= 1
        }
    }

    /// `event` made to fit `maxEventBytes`: its payload as a digest, then its texts and lists
    /// cut (to an eighth and a fortieth of the limit).
    func shrunk(_ event: TraceEvent) -> TraceEvent {
        var e = event
        e.payload = PayloadCapture.digest.apply(to: e.payload)
        guard BlockEncoder.maxEventBytes(e, capture: capture) > maxEventBytes else { return e }
        e.text = BlockEncoder.cut(e.text, to: maxEventBytes / 8)
        if case .trap(let reason) = e.result { e.result = .trap(BlockEncoder.cut(reason, to: maxEventBytes / 8)) }
        let keep = maxEventBytes / 40
        if e.args.count > keep { e.args = EventArguments(e.args.prefix(keep)) }
        if e.tags.count > keep { e.tags = Array(e.tags.prefix(keep)) }
        return e
    }

    /// Seals the current chunk when `need` more bytes might not fit in it, with the time
    /// column that sealing appends (format 2.0).
    @inline(__always)
    private func makeRoom(_ r: inout Ring, _ need: Int) {
        if r.encoder.count + r.encoder.columnBytes(after: 1) + need > chunkBytes { seal(&r) }
    }

    /// Moves the current chunk into the ring and starts an empty one. When every other chunk's
    /// memory is held by a dump still writing it, the current chunk's events are dropped
    /// instead (the ring starts again after them), so memory stays bounded without waiting.
    func seal(_ r: inout Ring) {
        guard r.encoder.eventCount > 0 else { return }
        guard let next = freeStorage(&r) else {
            drop(events: r.encoder.eventCount, bytes: r.encoder.bodyBytes, until: r.encoder.maxEnd, from: &r)
            r.encoder.reset()
            return
        }
        r.chunks.append(Chunk(r.encoder.detach(next: next)))
    }

    /// Memory for a new chunk: a spare one, a new one while the ring may grow, else the oldest
    /// chunk's (dropping it). `nil` when every chunk is held by a dump.
    private func freeStorage(_ r: inout Ring) -> BlockBytes? {
        if let s = r.spare.popLast() { return s }
        if r.storages < maxChunks {
            r.storages += 1
            return BlockBytes(capacity: chunkBytes)
        }
        while !r.chunks.isEmpty {
            let oldest = r.chunks.removeFirst()
            drop(events: oldest.body.eventCount, bytes: oldest.body.bodyBytes, until: oldest.body.lastEnd, from: &r)
            if !oldest.pinned { return oldest.body.storage }
            oldest.detached = true
        }
        return nil
    }

    private func drop(events: Int, bytes: Int, until: UInt64, from r: inout Ring) {
        r.dropped &+= UInt64(events)
        r.droppedBytes &+= UInt64(bytes)
        r.droppedUntil = max(r.droppedUntil, until)
    }
}
