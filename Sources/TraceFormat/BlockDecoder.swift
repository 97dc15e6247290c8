/// Flag bits of an event record's body (see `docs/TRACE_FORMAT.md`, "Event records").
enum EventFlags {
    static let args: UInt8 = 1 << 0
    static let tags: UInt8 = 1 << 1
    static let message: UInt8 = 1 << 2
    static let payloadShift: UInt8 = 3  // 2 bits: 0 none, 1 bytes, 2 digest
    static let text: UInt8 = 1 << 5
    static let resultShift: UInt8 = 6  // 2 bits: 0 none, 1 value, 2 trap
}

/// Per-block delta state shared by encoder and decoder: both start each block from zero.
struct DeltaState {
    /// End time (in time units) of the previous event of each process in this block.
    var lastEnd = PidTable()
    /// The previous non-zero message id in this block.
    var lastMessage: UInt64 = 0

    mutating func reset() {
        lastEnd.removeAll()
        lastMessage = 0
    }
}

/// Decodes the records of one raw block.
struct BlockDecoder {
    var unit: UInt64
    /// Format 2.0: times come from the block's time column, not the records.
    let timesInColumn: Bool
    private var times = TimeColumnReader()
    var state = DeltaState()
    private var recentPayloads = RecentArrays<UInt8>()
    private var recentTags = RecentArrays<Int64>()
    /// Where the block's recent payloads are, for payload references (format 1.3).
    private var payloadRing = PayloadRing()

    init(unit: UInt64, timesInColumn: Bool) {
        self.unit = unit
        self.timesInColumn = timesInColumn
    }

    /// Reads the block-start record (and finds a 2.0 block's time column); returns
    /// (eventCount, firstEventIndex).
    mutating func begin(_ r: inout ByteReader) throws(TraceFormatError) -> (count: UInt64, first: UInt64) {
        state.reset()
        payloadRing.reset()
        var body = try r.record(TraceLayout.blockStartCode, length: "block-start length") {
            "block does not open with a block-start record (code \($0))"
        }
        let count = try body.varint()
        let first = try body.varint()
        if timesInColumn {
            let eventBytes = try body.varint()
            times = try TimeColumnReader(r, eventBytes: eventBytes, count: count)
        }
        return (count, first)
    }

    /// Decodes the next record; `nil` for a non-event record, which is skipped.
    @inline(__always) mutating func next(_ r: inout ByteReader) throws(TraceFormatError) -> TraceEvent? {
        var e = TraceEvent(kind: EventKind(rawValue: 0), pid: 0)
        return try next(&r, into: &e) ? e : nil
    }

    /// Decodes the next record into `e` (every field is overwritten); false for a non-event
    /// record, which is skipped.
    @inline(__always) mutating func next(_ r: inout ByteReader, into e: inout TraceEvent) throws(TraceFormatError) -> Bool {
        let at = r.offset
        let code = try r.varint()
        let len = try r.count("record length")
        let bodyEnd = r.pos + len
        defer { r.pos = bodyEnd }
        if code >= TraceLayout.firstNonEventCode { return false }
        guard code != TraceLayout.blockStartCode else {
            throw TraceFormatError(.badEvent, offset: at, "block-start record inside a block")
        }
        var b = ByteReader(r.bytes, from: r.pos, to: bodyEnd, base: r.base)
        do throws(TraceFormatError) {
            try decodeBody(kind: EventKind(rawValue: UInt16(code)), &b, into: &e)
            return true
        } catch {
            throw TraceFormatError(
                .badEvent, offset: error.offset,
                "event record at byte \(at) (kind \(code)): \(error.detail)")
        }
    }

    @inline(__always) private mutating func decodeBody(
        kind: EventKind, _ b: inout ByteReader,
        into e: inout TraceEvent
    ) throws(TraceFormatError) {
        let flags = try b.u8()
        let pid = try b.varint()
        let startDelta: Int64
        let duration: Int64
        if timesInColumn {
            (startDelta, duration) = try times.next()
        } else {
            startDelta = try b.svarint()
            duration = try b.svarint()
        }
        let step = UInt64(bitPattern: startDelta) &+ UInt64(bitPattern: duration)
        let prev = state.lastEnd.update(pid) { $0 &+ step }
        let startT = prev &+ UInt64(bitPattern: startDelta)
        let endT = startT &+ UInt64(bitPattern: duration)
        e.kind = kind
        e.pid = pid
        e.start = startT &* unit
        e.end = endT &* unit
        e.args.removeAllInline()
        if flags & EventFlags.args != 0 {
            let n = try b.count("argument")
            for _ in 0..<n { e.args.append(try b.svarint()) }
        }
        if flags & EventFlags.tags == 0 {
            if !e.tags.isEmpty { e.tags = [] }
        } else {
            let n = try b.count("tag")
            if n == 1 {
                let one = try b.svarint()
                e.tags = withUnsafeBytes(of: one) { recentTags.array($0.baseAddress!, count: 1, as: Int64.self) }
            } else {
                var tags: [Int64] = []
                tags.reserveCapacity(n)
                for _ in 0..<n { tags.append(try b.svarint()) }
                e.tags = n <= 8 ? recentTags.array(tags) : tags
            }
        }
        if flags & EventFlags.message != 0 {
            e.message = state.lastMessage &+ UInt64(bitPattern: try b.svarint())
            state.lastMessage = e.message
        } else {
            e.message = 0
        }
        switch (flags >> EventFlags.payloadShift) & 3 {
        case 0: e.payload = .none
        case 1:
            let n = try b.count("payload byte")
            payloadRing.add(offset: b.pos, count: n)
            e.payload = .bytes(recentPayloads.array(b.bytes.baseAddress! + b.pos, count: n, as: UInt8.self))
            b.pos += n
        case 2:
            let size = try b.varint()
            e.payload = .digest(size: size, xxh64: try b.u64())
        default:
            throw b.fail("reserved payload form 3")
        }
        if flags & EventFlags.text != 0 {
            e.text = try b.string("text byte")
        } else if !e.text.isEmpty {
            e.text = ""
        }
        switch flags >> EventFlags.resultShift {
        case 0: e.result = .none
        case 1: e.result = .value(try b.svarint())
        case 2: e.result = .trap(try b.string("trap reason byte"))
        default: throw b.fail("reserved result form 3")
        }
        // 1.3: a payload by reference (5.2). Bytes after it belong to newer minor versions
        // and are skipped.
        if b.pos < b.end {
            let k = try b.varint()
            if k != 0 {
                guard case .none = e.payload else { throw b.fail("payload reference \(k) on an event that has a payload") }
                guard let (offset, n) = payloadRing.resolve(k) else {
                    throw b.fail(
                        "payload reference \(k) reaches before the block's first payload or past \(PayloadReference.window)")
                }
                e.payload = .bytes(recentPayloads.array(b.bytes.baseAddress! + offset, count: n, as: UInt8.self))
            }
        }
    }
}
