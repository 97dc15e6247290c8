/// Flag bits of an event record's body (see `docs/TRACE_FORMAT.md`, "Event records").
enum EventFlags {
    static let args: UInt8 = 1 << 0
    static let tags: UInt8 = 1 << 1
    static let message: UInt8 = 1 << 2
    static let payloadShift: UInt8 = 3      // 2 bits: 0 none, 1 bytes, 2 digest
    static let text: UInt8 = 1 << 5
    static let resultShift: UInt8 = 6       // 2 bits: 0 none, 1 value, 2 trap
}

/// Per-block delta state shared by encoder and decoder: both start each block from zero.
struct DeltaState {
    /// End time (in time units) of the previous event of each process in this block.
    var lastEnd: [UInt64: UInt64] = [:]
    /// The previous non-zero message id in this block.
    var lastMessage: UInt64 = 0

    mutating func reset() {
        lastEnd.removeAll(keepingCapacity: true)
        lastMessage = 0
    }
}

/// Encodes events into the raw bytes of one block.
struct BlockEncoder {
    let unit: UInt64
    var out = ByteWriter()
    var state = DeltaState()
    var eventCount = 0

    /// Room kept at the front of `out` for the block-start record.
    static let headerRoom = 32

    init(unit: UInt64, capacity: Int) {
        self.unit = max(1, unit)
        out = ByteWriter(capacity: capacity + BlockEncoder.headerRoom)
        out.bytes.append(contentsOf: repeatElement(0, count: BlockEncoder.headerRoom))
    }

    /// Starts a new block (keeps the buffer's capacity).
    mutating func reset() {
        out.bytes.removeAll(keepingCapacity: true)
        out.bytes.append(contentsOf: repeatElement(0, count: BlockEncoder.headerRoom))
        state.reset()
        eventCount = 0
    }

    var bodyBytes: Int { out.count - BlockEncoder.headerRoom }

    /// Appends one event record.
    mutating func encode(_ e: TraceEvent) {
        out.varint(UInt64(e.kind.rawValue))
        let lengthAt = out.count
        out.u8(0)
        let bodyStart = out.count
        var flags: UInt8 = 0
        if !e.args.isEmpty { flags |= EventFlags.args }
        if !e.tags.isEmpty { flags |= EventFlags.tags }
        if e.message != 0 { flags |= EventFlags.message }
        switch e.payload {
        case .none: break
        case .bytes: flags |= 1 << EventFlags.payloadShift
        case .digest: flags |= 2 << EventFlags.payloadShift
        }
        if !e.text.isEmpty { flags |= EventFlags.text }
        switch e.result {
        case .none: break
        case .value: flags |= 1 << EventFlags.resultShift
        case .trap: flags |= 2 << EventFlags.resultShift
        }
        out.u8(flags)
        out.varint(e.pid)
        let startT = unit == 1 ? e.start : e.start / unit
        let endT = unit == 1 ? e.end : e.end / unit
        let prev = state.lastEnd.updateValue(endT, forKey: e.pid) ?? 0
        out.svarint(Int64(bitPattern: startT &- prev))
        out.svarint(Int64(bitPattern: endT &- startT))
        if !e.args.isEmpty {
            out.varint(UInt64(e.args.count))
            for a in e.args { out.svarint(a) }
        }
        if !e.tags.isEmpty {
            out.varint(UInt64(e.tags.count))
            for t in e.tags { out.svarint(t) }
        }
        if e.message != 0 {
            out.svarint(Int64(bitPattern: e.message &- state.lastMessage))
            state.lastMessage = e.message
        }
        switch e.payload {
        case .none: break
        case .bytes(let b):
            out.varint(UInt64(b.count))
            out.raw(b)
        case .digest(let size, let h):
            out.varint(size)
            out.u64(h)
        }
        if !e.text.isEmpty { out.string(BlockEncoder.cut(e.text)) }
        switch e.result {
        case .none: break
        case .value(let v): out.svarint(v)
        case .trap(let reason): out.string(BlockEncoder.cut(reason))
        }
        let bodyLen = out.count - bodyStart
        if bodyLen < 0x80 {
            out.bytes[lengthAt] = UInt8(bodyLen)
        } else {
            var len = ByteWriter(capacity: 10)
            len.varint(UInt64(bodyLen))
            out.bytes.replaceSubrange(lengthAt..<(lengthAt + 1), with: len.bytes)
        }
        eventCount += 1
    }

    /// Texts longer than `TraceLayout.maxTextBytes` are cut (on a character boundary).
    static func cut(_ s: String) -> String {
        guard s.utf8.count > TraceLayout.maxTextBytes else { return s }
        var end = s.utf8.index(s.utf8.startIndex, offsetBy: TraceLayout.maxTextBytes)
        while end > s.startIndex && !s.unicodeScalars.indices.contains(end) { end = s.utf8.index(before: end) }
        return String(s[..<end])
    }

    /// Writes the block-start record in front of the events and returns the range of `out.bytes`
    /// holding the complete raw block.
    mutating func finish(firstEventIndex: UInt64) -> Range<Int> {
        var body = ByteWriter(capacity: 20)
        body.varint(UInt64(eventCount))
        body.varint(firstEventIndex)
        var rec = ByteWriter(capacity: 24)
        rec.varint(TraceLayout.blockStartCode)
        rec.varint(UInt64(body.count))
        rec.raw(body.bytes)
        let start = BlockEncoder.headerRoom - rec.count
        out.bytes.replaceSubrange(start..<BlockEncoder.headerRoom, with: rec.bytes)
        return start..<out.count
    }
}

/// Decodes the records of one raw block.
struct BlockDecoder {
    var unit: UInt64
    var state = DeltaState()

    /// Reads the block-start record; returns (eventCount, firstEventIndex).
    mutating func begin(_ r: inout ByteReader) throws(TraceFormatError) -> (count: UInt64, first: UInt64) {
        state.reset()
        let at = r.offset
        let code = try r.varint()
        guard code == TraceLayout.blockStartCode else {
            throw TraceFormatError(.badEvent, offset: at, "block does not open with a block-start record (code \(code))")
        }
        let len = try r.count("block-start length")
        var body = ByteReader(r.bytes, from: r.pos, to: r.pos + len, base: r.base)
        let count = try body.varint()
        let first = try body.varint()
        r.pos += len
        return (count, first)
    }

    /// Decodes the next record; `nil` for a non-event record, which is skipped.
    mutating func next(_ r: inout ByteReader) throws(TraceFormatError) -> TraceEvent? {
        let at = r.offset
        let code = try r.varint()
        let len = try r.count("record length")
        let bodyEnd = r.pos + len
        defer { r.pos = bodyEnd }
        if code >= TraceLayout.firstNonEventCode { return nil }
        guard code != TraceLayout.blockStartCode else {
            throw TraceFormatError(.badEvent, offset: at, "block-start record inside a block")
        }
        var b = ByteReader(r.bytes, from: r.pos, to: bodyEnd, base: r.base)
        do throws(TraceFormatError) {
            return try decodeBody(kind: EventKind(rawValue: UInt16(code)), &b)
        } catch {
            throw TraceFormatError(.badEvent, offset: error.offset,
                                   "event record at byte \(at) (kind \(code)): \(error.detail)")
        }
    }

    private mutating func decodeBody(kind: EventKind, _ b: inout ByteReader) throws(TraceFormatError) -> TraceEvent {
        let flags = try b.u8()
        let pid = try b.varint()
        let prev = state.lastEnd[pid] ?? 0
        let startT = prev &+ UInt64(bitPattern: try b.svarint())
        let endT = startT &+ UInt64(bitPattern: try b.svarint())
        state.lastEnd[pid] = endT
        var e = TraceEvent(kind: kind, pid: pid, start: startT &* unit, end: endT &* unit)
        if flags & EventFlags.args != 0 {
            let n = try b.count("argument")
            var args = EventArguments()
            for _ in 0..<n { args.append(try b.svarint()) }
            e.args = args
        }
        if flags & EventFlags.tags != 0 {
            let n = try b.count("tag")
            var tags: [Int64] = []
            tags.reserveCapacity(n)
            for _ in 0..<n { tags.append(try b.svarint()) }
            e.tags = tags
        }
        if flags & EventFlags.message != 0 {
            e.message = state.lastMessage &+ UInt64(bitPattern: try b.svarint())
            state.lastMessage = e.message
        }
        switch (flags >> EventFlags.payloadShift) & 3 {
        case 0: break
        case 1:
            let n = try b.count("payload byte")
            e.payload = .bytes(try b.bytesArray(n))
        case 2:
            let size = try b.varint()
            e.payload = .digest(size: size, xxh64: try b.u64())
        default:
            throw b.fail("reserved payload form 3")
        }
        if flags & EventFlags.text != 0 { e.text = try b.string("text byte") }
        switch flags >> EventFlags.resultShift {
        case 0: break
        case 1: e.result = .value(try b.svarint())
        case 2: e.result = .trap(try b.string("trap reason byte"))
        default: throw b.fail("reserved result form 3")
        }
        // Bytes after the known fields belong to newer minor versions and are skipped.
        return e
    }
}
