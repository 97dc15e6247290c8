/// One entry of the frame index: where an event block is and what it holds.
public struct BlockIndexEntry: Sendable, Equatable {
    /// Byte offset of the block's zstd frame from the start of the trace.
    public var frameOffset: UInt64
    /// Index (0-based, in file order) of the block's first event.
    public var firstEventIndex: UInt64
    /// Number of events in the block.
    public var eventCount: UInt32
    /// Size of the block's zstd frame in bytes.
    public var frameBytes: UInt32
    /// Start time (ns) of the block's first event.
    public var firstStartNanos: UInt64

    /// Creates an entry.
    public init(
        frameOffset: UInt64, firstEventIndex: UInt64, eventCount: UInt32, frameBytes: UInt32,
        firstStartNanos: UInt64
    ) {
        self.frameOffset = frameOffset
        self.firstEventIndex = firstEventIndex
        self.eventCount = eventCount
        self.frameBytes = frameBytes
        self.firstStartNanos = firstStartNanos
    }
}

/// Encoding and decoding of the skippable frames: header, frame index, closing summary.
///
/// Every such frame is `magic u32 LE, size u32 LE, content[size]`, and its content ends with a
/// check word: the low 32 bits of XXH64(content without the check word), little-endian.
enum MetadataFrames {
    static func frame(magic: UInt32, content: ByteWriter) -> [UInt8] {
        var w = ByteWriter(capacity: content.count + 12)
        w.u32(magic)
        w.u32(UInt32(content.count + 4))
        w.raw(content.bytes)
        w.u32(UInt32(truncatingIfNeeded: XXH64.hash(content.bytes)))
        return w.bytes
    }

    /// Verifies the check word of `content` (which includes it); `offset` is the content's offset.
    static func verify(_ content: UnsafeRawBufferPointer, offset: UInt64, what: String) throws(TraceFormatError) {
        guard content.count >= 4 else {
            throw TraceFormatError(.corruptFrame, offset: offset, "\(what) frame too short (\(content.count) bytes)")
        }
        let body = UnsafeRawBufferPointer(rebasing: content[0..<(content.count - 4)])
        var r = ByteReader(content, from: content.count - 4, base: offset)
        let stored = try r.u32()
        let actual = UInt32(truncatingIfNeeded: XXH64.hash(body))
        guard stored == actual else {
            throw TraceFormatError(
                .corruptFrame, offset: offset,
                "\(what) frame check word mismatch (stored \(hex32(stored)), computed \(hex32(actual)))")
        }
    }

    static func hex32(_ v: UInt32) -> String { "0x" + Hex.fixed(UInt64(v), width: 8) }

    // MARK: header

    static func header(_ h: TraceHeader) -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        w.raw(TraceLayout.headerSignature)
        w.u16(h.formatMajor)
        w.u16(h.formatMinor)
        w.string(h.producer)
        w.string(h.clock)
        w.u64(h.wallClockStartNanos)
        w.varint(h.timeUnitNanos)
        w.varint(UInt64(h.metadata.count))
        for (k, v) in h.metadata.sorted(by: { $0.key < $1.key }) {
            w.string(k)
            w.string(v)
        }
        // The window (format 1.2) only when there is one: a whole recording's header keeps the
        // 1.1 layout, which an absent window field means.
        if let window = h.window {
            w.varint(TraceWindow.flightWindowCode)
            w.varint(window.droppedEvents)
            w.varint(window.droppedBytes)
            w.varint(window.startNanos)
            w.string(window.trigger)
        }
        return frame(magic: TraceLayout.headerMagic, content: w)
    }

    /// Parses header content (check word included); `offset` = offset of the content.
    static func parseHeader(_ content: UnsafeRawBufferPointer, offset: UInt64) throws(TraceFormatError) -> TraceHeader {
        var r = ByteReader(content, to: max(0, content.count - 4), base: offset)
        guard content.count >= 8, Array(content[0..<4]) == TraceLayout.headerSignature else {
            throw TraceFormatError(.notATrace, offset: offset, "header frame does not start with \"LTRC\"")
        }
        try verify(content, offset: offset, what: "header")
        r.pos = 4
        let major = try r.u16()
        let minor = try r.u16()
        guard major <= TraceHeader.currentMajor, major >= 1 else {
            throw TraceFormatError(
                .unsupportedVersion, offset: offset + 4,
                "format version \(major).\(minor) (this reader reads major \(TraceHeader.currentMajor))")
        }
        do throws(TraceFormatError) {
            let producer = try r.string("producer byte")
            let clock = try r.string("clock byte")
            let wall = try r.u64()
            let unit = try r.varint()
            guard unit >= 1 else { throw r.fail("time unit 0") }
            let n = try r.count("metadata entry")
            var meta: [String: String] = [:]
            for _ in 0..<n {
                let k = try r.string("metadata key byte")
                meta[k] = try r.string("metadata value byte")
            }
            var window: TraceWindow?
            if !r.atEnd, try r.varint() == TraceWindow.flightWindowCode {
                window = TraceWindow(
                    droppedEvents: try r.varint(), droppedBytes: try r.varint(),
                    startNanos: try r.varint(), trigger: try r.string("window trigger byte"))
            }
            // Anything after the fields this version knows belongs to a later minor version.
            return TraceHeader(
                producer: producer, clock: clock, wallClockStartNanos: wall, timeUnitNanos: unit,
                metadata: meta, window: window, formatMajor: major, formatMinor: minor)
        } catch {
            throw TraceFormatError(.corruptFrame, offset: error.offset, "header: \(error.detail)")
        }
    }

    // MARK: index

    static func index(_ entries: [BlockIndexEntry]) -> [UInt8] {
        var w = ByteWriter(capacity: 8 + entries.count * TraceLayout.indexEntryBytes)
        w.u64(UInt64(entries.count))
        for e in entries {
            w.u64(e.frameOffset)
            w.u64(e.firstEventIndex)
            w.u32(e.eventCount)
            w.u32(e.frameBytes)
            w.u64(e.firstStartNanos)
        }
        return frame(magic: TraceLayout.indexMagic, content: w)
    }

    static func parseIndex(_ content: UnsafeRawBufferPointer, offset: UInt64) throws(TraceFormatError) -> [BlockIndexEntry] {
        try verify(content, offset: offset, what: "index")
        var r = ByteReader(content, to: content.count - 4, base: offset)
        do throws(TraceFormatError) {
            let n = try r.u64()
            guard n <= UInt64(r.remaining / TraceLayout.indexEntryBytes) else {
                throw r.fail("index claims \(n) entries")
            }
            var out: [BlockIndexEntry] = []
            out.reserveCapacity(Int(n))
            for _ in 0..<n {
                out.append(
                    BlockIndexEntry(
                        frameOffset: try r.u64(), firstEventIndex: try r.u64(), eventCount: try r.u32(),
                        frameBytes: try r.u32(), firstStartNanos: try r.u64()))
            }
            return out
        } catch {
            throw TraceFormatError(.corruptFrame, offset: error.offset, "index: \(error.detail)")
        }
    }

    // MARK: summary

    static func summary(_ s: TraceSummary, indexOffset: UInt64?) -> [UInt8] {
        var w = ByteWriter(capacity: 48)
        w.u64(s.eventCount)
        w.u64(s.blockCount)
        w.u64(s.rawBytes)
        w.u64(s.fileBytes)
        w.u64(s.lastEndNanos)
        w.u64(indexOffset ?? UInt64.max)
        return frame(magic: TraceLayout.summaryMagic, content: w)
    }

    static func parseSummary(
        _ content: UnsafeRawBufferPointer, offset: UInt64
    )
        throws(TraceFormatError) -> (summary: TraceSummary, indexOffset: UInt64?)
    {
        guard content.count >= TraceLayout.summaryContentBytes else {
            throw TraceFormatError(
                .corruptFrame, offset: offset,
                "summary frame has \(content.count) bytes, expected \(TraceLayout.summaryContentBytes)")
        }
        try verify(content, offset: offset, what: "summary")
        var r = ByteReader(content, base: offset)
        let s = TraceSummary(
            eventCount: try r.u64(), blockCount: try r.u64(), rawBytes: try r.u64(),
            fileBytes: try r.u64(), lastEndNanos: try r.u64())
        let idx = try r.u64()
        return (s, idx == UInt64.max ? nil : idx)
    }
}
