/// A format 2.0 block's time column (docs/TRACE_FORMAT.md 5.4): every event's `startDelta`,
/// then every event's `duration`, as svarints in event order, in one record after the events.
///
/// Times are the one part of an event that does not repeat (scheduling jitter). Inside each
/// record they broke zstd's matches over the predictable fields around them; in a column of
/// their own the records repeat whole and the jitter costs only its own entropy.
struct TimeColumnBuilder {
    private var starts: BlockBytes
    private var durations: BlockBytes
    /// Where the next start delta and duration go, and the end of their memory: kept here, not
    /// read through the two classes, because `append` runs for every event.
    private var startsEnd: UnsafeMutableRawPointer
    private var startsLimit: UnsafeMutableRawPointer
    private var durationsEnd: UnsafeMutableRawPointer
    private var durationsLimit: UnsafeMutableRawPointer

    init(capacity: Int = 4096) {
        starts = BlockBytes(capacity: capacity)
        durations = BlockBytes(capacity: capacity)
        startsEnd = starts.base
        startsLimit = starts.base + starts.capacity
        durationsEnd = durations.base
        durationsLimit = durations.base + durations.capacity
    }

    private var startsCount: Int { startsEnd - starts.base }
    private var durationsCount: Int { durationsEnd - durations.base }

    /// Bytes of times so far.
    var timeBytes: Int { startsCount + durationsCount }

    /// The most bytes `write(into:at:)` adds for the times so far: the record's code, length
    /// and start-bytes count (≤ 3 + 10 + 10) and the times.
    var recordBytes: Int { 23 + timeBytes }

    @inline(__always) mutating func append(startDelta: Int64, duration: Int64) {
        // An svarint takes at most 10 bytes.
        if startsLimit - startsEnd < 10 || durationsLimit - durationsEnd < 10 { grow() }
        var s = RawCursor(startsEnd)
        s.svarint(startDelta)
        startsEnd = s.p
        var d = RawCursor(durationsEnd)
        d.svarint(duration)
        durationsEnd = d.p
    }

    private mutating func grow() {
        let s = startsCount, d = durationsCount
        if starts.capacity - s < 10 { starts.enlarge(toHold: s + 10, keeping: s) }
        if durations.capacity - d < 10 { durations.enlarge(toHold: d + 10, keeping: d) }
        startsEnd = starts.base + s
        startsLimit = starts.base + starts.capacity
        durationsEnd = durations.base + d
        durationsLimit = durations.base + durations.capacity
    }

    /// Writes the time-column record at `at` (which must have `recordBytes` bytes of room);
    /// returns the end of what it wrote.
    func write(into base: UnsafeMutableRawPointer, at: Int) -> Int {
        var w = RawCursor(base + at)
        w.varint(TraceLayout.timeColumnCode)
        w.varint(UInt64(ByteWriter.varintSize(UInt64(startsCount)) + timeBytes))
        w.varint(UInt64(startsCount))
        if startsCount > 0 { w.p.copyMemory(from: starts.base, byteCount: startsCount) }
        w.p += startsCount
        if durationsCount > 0 { w.p.copyMemory(from: durations.base, byteCount: durationsCount) }
        w.p += durationsCount
        return w.p - base
    }

    mutating func reset() {
        startsEnd = starts.base
        durationsEnd = durations.base
    }
}

/// The reading side of a block's time column: two cursors, one over the start deltas and one
/// over the durations, each event taking the next of both.
struct TimeColumnReader {
    private var starts: ByteReader
    private var durations: ByteReader
    /// Events of the block whose times are still to be read.
    private var left: UInt64

    /// An empty column (a format 1.x block has none).
    init() {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        starts = ByteReader(empty, base: 0)
        durations = starts
        left = 0
    }

    /// Finds the time column of the block whose events begin at `r.pos` and take `eventBytes`
    /// bytes, for `count` events.
    init(_ r: ByteReader, eventBytes: UInt64, count: UInt64) throws(TraceFormatError) {
        guard eventBytes <= UInt64(r.remaining) else {
            throw r.fail("block start says its events take \(eventBytes) bytes; \(r.remaining) follow it")
        }
        var c = ByteReader(r.bytes, from: r.pos + Int(eventBytes), to: r.end, base: r.base)
        let at = c.offset
        var body = try c.record(TraceLayout.timeColumnCode, length: "time column byte") {
            "record \($0) where the block's time column should start"
        }
        let startBytes = try body.count("start-delta byte")
        starts = ByteReader(body.bytes, from: body.pos, to: body.pos + startBytes, base: body.base)
        durations = ByteReader(body.bytes, from: body.pos + startBytes, to: body.end, base: body.base)
        left = count
        // Every time is at least one byte: a column too short for its events is found here,
        // before any of them is handed out.
        guard UInt64(starts.remaining) >= count && UInt64(durations.remaining) >= count else {
            throw TraceFormatError(
                .badEvent, offset: at,
                "time column too short: \(starts.remaining + durations.remaining) bytes of times for the block's \(count) events")
        }
    }

    /// The next event's (startDelta, duration).
    @inline(__always) mutating func next() throws(TraceFormatError) -> (Int64, Int64) {
        guard left > 0 else { throw starts.fail("more events than the block start declares have times") }
        let s = try starts.svarint()
        let d = try durations.svarint()
        left &-= 1
        if left == 0 && !(starts.atEnd && durations.atEnd) {
            throw starts.fail(
                "time column holds \(starts.remaining + durations.remaining) bytes after the block's last event's times")
        }
        return (s, d)
    }
}
