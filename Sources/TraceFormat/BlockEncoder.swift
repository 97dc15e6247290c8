/// Memory holding one block's raw bytes, or a writer's staged events (`StagedEvents`).
/// @unchecked Sendable: one owner at a time — the producers under the writer's lock, then the
/// writer's serial queue, then the spare pool (under its lock); a flight recorder's ring under
/// its lock.
final class BlockBytes: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// Grows the memory (doubling) to hold at least `needed` bytes, keeping the first `used`.
    func enlarge(toHold needed: Int, keeping used: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 16)
        bigger.copyMemory(from: base, byteCount: used)
        base.deallocate()
        base = bigger
        capacity = c
    }

    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }
}

/// A finished block: its raw bytes (block-start record included) and what the index needs.
struct FilledBlock: @unchecked Sendable {  // BlockBytes: see its comment
    var storage: BlockBytes
    var range: Range<Int>
    var eventCount: Int
    var firstEventIndex: UInt64
    var firstStart: UInt64
    var lastEnd: UInt64
}

/// A block's events without their block-start record (see `BlockEncoder.detach`): the room for
/// the record stays free in front of them.
struct BlockBody: @unchecked Sendable {  // BlockBytes: see its comment
    var storage: BlockBytes
    /// End of the events in `storage` (they start at `BlockEncoder.headerRoom`), and of the
    /// time column after them in format 2.0.
    var end: Int
    /// Format 2.0: bytes of the event records, which the time column follows (the block-start
    /// record says it). `nil`: format 1.x, times inside the records.
    var eventBytes: Int?
    var eventCount: Int
    var firstStart: UInt64
    var lastEnd: UInt64

    /// Raw bytes of the events.
    var bodyBytes: Int { end - BlockEncoder.headerRoom }

    /// The complete raw block, its block-start record written for `firstEventIndex`.
    func opened(firstEventIndex: UInt64) -> FilledBlock {
        let start = BlockEncoder.writeBlockStart(
            into: storage, eventCount: eventCount, firstEventIndex: firstEventIndex, eventBytes: eventBytes)
        return FilledBlock(
            storage: storage, range: start..<end, eventCount: eventCount,
            firstEventIndex: firstEventIndex, firstStart: firstStart, lastEnd: lastEnd)
    }
}

/// Encodes events into the raw bytes of one block, writing through a raw pointer (on a
/// `TraceWriter`'s background queue, or inside `FlightRecorder.record`, under its lock).
struct BlockEncoder {
    let unit: UInt64
    /// Format 2.0: times go to `times`, written after the events when the block ends.
    let timesInColumn: Bool
    private var times: TimeColumnBuilder
    private(set) var storage: BlockBytes
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    /// Bytes used, the room for the block-start record included.
    private(set) var count: Int
    private var lastEnd = PidTable()
    /// The last event's pid and end time. A process usually records several events in a row
    /// (one executor turn), so those skip the table: `recentEnd` is written back to `lastEnd`
    /// only when another pid comes (`recentDirty`).
    private var recentPid: UInt64 = 0
    private var recentEnd: UInt64 = 0
    private var hasRecent = false
    private var recentDirty = false
    private var lastMessage: UInt64 = 0
    /// The block's recent payloads, for payload references (format 1.3).
    private let payloads = PayloadMatcher()
    private(set) var eventCount = 0
    private var firstStart: UInt64 = 0
    private(set) var maxEnd: UInt64 = 0

    /// Room kept at the front for the block-start record (code, length, and up to 3 varints
    /// of ≤ 10 bytes).
    static let headerRoom = 32
    /// Room reserved with a payload or a text for what may follow it unreserved: the result
    /// value (one varint).
    static let tailRoom = 10

    init(unit: UInt64, storage: BlockBytes, timesInColumn: Bool) {
        self.unit = max(1, unit)
        self.timesInColumn = timesInColumn
        times = TimeColumnBuilder(capacity: timesInColumn ? 4096 : 64)
        self.storage = storage
        base = storage.base
        capacity = storage.capacity
        count = BlockEncoder.headerRoom
    }

    init(unit: UInt64, capacity: Int, timesInColumn: Bool) {
        self.init(
            unit: unit, storage: BlockBytes(capacity: capacity + BlockEncoder.headerRoom), timesInColumn: timesInColumn)
    }

    /// Raw bytes of the block so far, without its block-start record (event records, and the
    /// time column they will have).
    var bodyBytes: Int { count - BlockEncoder.headerRoom + columnBytes() }

    /// The most bytes the time column adds to `storage` when the block ends, after `events`
    /// more events (each adds at most 20); 0 in format 1.x.
    func columnBytes(after events: Int = 0) -> Int { timesInColumn ? times.recordBytes + 20 * events : 0 }

    @inline(__always) private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        storage.enlarge(toHold: needed, keeping: count)
        base = storage.base
        capacity = storage.capacity
    }

    @inline(__always) private mutating func put(_ b: UInt8) {
        base.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count &+= 1
    }

    @inline(__always) private mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            put(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        put(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always) private mutating func svarint(_ v: Int64) { varint(Zigzag.encode(v)) }

    @inline(__always) private mutating func raw(_ p: UnsafeRawBufferPointer) {
        guard p.count > 0 else { return }
        (base + count).copyMemory(from: p.baseAddress!, byteCount: p.count)
        count &+= p.count
    }

    private mutating func lengthPrefixed(_ s: String) {
        var s = BlockEncoder.cut(s)
        s.withUTF8 { u in
            reserve(10 + u.count + BlockEncoder.tailRoom)
            varint(UInt64(u.count))
            raw(UnsafeRawBufferPointer(u))
        }
    }

    /// Appends bytes as they are (tests use this to build records of future versions).
    mutating func appendRaw(_ bytes: [UInt8]) {
        reserve(bytes.count)
        bytes.withUnsafeBytes { raw($0) }
    }

    /// Appends one event record, applying `capture` to its payload.
    mutating func encode(_ e: TraceEvent, capture: PayloadCapture = .full) {
        // The common shape (no tags, text or trap, ≤ 4 arguments, no digest): the plain path.
        if let r = EventRecord(plain: e) {
            switch e.payload {
            case .none: encode(r, payload: nil, capture: capture); return
            case .bytes(let b): b.withUnsafeBytes { encode(r, payload: $0, capture: capture) }; return
            case .digest: break
            }
        }
        if case .bytes(let b) = e.payload, capture.digests(size: b.count) {
            var digested = e
            digested.payload = capture.apply(to: e.payload)
            encode(digested, capture: .full)
            return
        }
        if e.tags.count > TraceLayout.maxListCount || e.args.count > TraceLayout.maxListCount {
            var cut = e
            cut.tags = Array(e.tags.prefix(TraceLayout.maxListCount))
            cut.args = EventArguments(e.args.prefix(TraceLayout.maxListCount))
            encode(cut, capture: capture)
            return
        }
        // Worst case of everything but payload and strings: kind, length, flags, pid, two
        // times, message, counts, digest — 8 varints of ≤ 10 bytes — plus the lists.
        reserve(96 + 10 * (e.args.count + e.tags.count))
        var flags: UInt8 = 0
        if !e.args.isEmpty { flags |= EventFlags.args }
        if !e.tags.isEmpty { flags |= EventFlags.tags }
        if e.message != 0 { flags |= EventFlags.message }
        var match = (k: 0, bucket: -1, offset: 0)
        switch e.payload {
        case .none: break
        case .bytes(let b):
            match = b.withUnsafeBytes { payloads.find($0, base: base) }
            if match.k == 0 { flags |= 1 << EventFlags.payloadShift }
        case .digest: flags |= 2 << EventFlags.payloadShift
        }
        if !e.text.isEmpty { flags |= EventFlags.text }
        switch e.result {
        case .none: break
        case .value: flags |= 1 << EventFlags.resultShift
        case .trap: flags |= 2 << EventFlags.resultShift
        }
        let (lengthAt, bodyStart) = begin(kind: e.kind, flags: flags, pid: e.pid, start: e.start, end: e.end)
        if !e.args.isEmpty {
            varint(UInt64(e.args.count))
            for a in e.args { svarint(a) }
        }
        if !e.tags.isEmpty {
            varint(UInt64(e.tags.count))
            for t in e.tags { svarint(t) }
        }
        if e.message != 0 { messageDelta(e.message) }
        switch e.payload {
        case .none: break
        case .bytes(let b) where match.k == 0:
            varint(UInt64(b.count))
            b.withUnsafeBytes { p in
                reserve(p.count + BlockEncoder.tailRoom)
                payloads.add(bucket: match.bucket, offset: count, count: p.count)
                raw(p)
            }
        case .bytes: break
        case .digest(let size, let h):
            digest(size: size, h)
        }
        if !e.text.isEmpty { lengthPrefixed(e.text) }
        switch e.result {
        case .none: break
        case .value(let v): svarint(v)
        case .trap(let reason): lengthPrefixed(reason)
        }
        if match.k > 0 {
            // Format 1.3: the payload by reference, after the fields 1.2 knows.
            reserve(BlockEncoder.tailRoom)
            varint(UInt64(match.k))
            payloads.add(bucket: match.bucket, offset: match.offset, count: Int(e.payload.size))
        }
        end(lengthAt: lengthAt, bodyStart: bodyStart)
    }

    /// Appends one event record given as plain fields and borrowed payload bytes (`nil` = no
    /// payload): the same bytes `encode(_:capture:)` writes for the equivalent `TraceEvent`,
    /// without building one. This is the hot path of tracing: it writes through a local cursor
    /// (`RawCursor`), which the compiler keeps in a register, instead of `count`, which it must
    /// reload after every byte stored through a raw pointer.
    @inline(__always)
    mutating func encode(_ e: EventRecord, payload: UnsafeRawBufferPointer?, capture: PayloadCapture) {
        var flags: UInt8 = 0
        if e.argCount > 0 { flags |= EventFlags.args }
        if e.message != 0 { flags |= EventFlags.message }
        var digested = false
        var payloadRoom = 0
        var match = (k: 0, bucket: -1, offset: 0)
        if let payload {
            digested = capture.digests(size: payload.count)
            if !digested { match = payloads.find(payload, base: base) }
            if match.k == 0 {
                flags |= (digested ? 2 : 1) << EventFlags.payloadShift
                if !digested { payloadRoom = payload.count }
            }
        }
        if e.hasResult { flags |= 1 << EventFlags.resultShift }
        // Kind, length, flags, pid, two times, message, count, 4 args, result, digest: ≤ 16 × 10.
        reserve(160 + payloadRoom)
        let prev = previousEnd(pid: e.pid, start: e.start, end: e.end)
        var w = RawCursor(base + count)
        w.varint(UInt64(e.kind.rawValue))
        let lengthAt = w.p
        w.put(0)
        let bodyStart = w.p
        w.put(flags)
        w.varint(e.pid)
        putTimes(prev, &w)
        if e.argCount > 0 {
            w.put(UInt8(e.argCount))
            for i in 0..<e.argCount { w.svarint(e.argument(i)) }
        }
        if e.message != 0 {
            w.svarint(Int64(bitPattern: e.message &- lastMessage))
            lastMessage = e.message
        }
        if let payload, match.k == 0 {
            if digested {
                w.varint(UInt64(payload.count))
                w.p.storeBytes(of: XXH64.hash(payload).littleEndian, as: UInt64.self)
                w.p += 8
            } else {
                w.varint(UInt64(payload.count))
                payloads.add(bucket: match.bucket, offset: w.p - base, count: payload.count)
                if payload.count > 0 {
                    w.p.copyMemory(from: payload.baseAddress!, byteCount: payload.count)
                    w.p += payload.count
                }
            }
        }
        if e.hasResult { w.svarint(e.resultValue) }
        if match.k > 0 {
            // Format 1.3: the payload by reference, after the fields 1.2 knows.
            w.varint(UInt64(match.k))
            payloads.add(bucket: match.bucket, offset: match.offset, count: payload!.count)
        }
        let bodyLen = w.p - bodyStart
        count = w.p - base
        if bodyLen < 0x80 {
            lengthAt.storeBytes(of: UInt8(bodyLen), as: UInt8.self)
            eventCount &+= 1
        } else {
            end(lengthAt: lengthAt - base, bodyStart: bodyStart - base)
        }
    }

    /// The per-block bookkeeping of `begin` for an event of `pid` (first start, latest end, the
    /// pid's previous end): returns the stored start and end and the end they are relative to.
    @inline(__always)
    private mutating func previousEnd(
        pid: ProcessID, start: UInt64, end: UInt64
    )
        -> (before: UInt64, startT: UInt64, endT: UInt64)
    {
        if eventCount == 0 { firstStart = start }
        if end > maxEnd { maxEnd = end }
        let startT = unit == 1 ? start : start / unit
        let endT = unit == 1 ? end : end / unit
        let prev: UInt64
        if hasRecent && pid == recentPid {
            prev = recentEnd
            recentDirty = true
        } else {
            if recentDirty { _ = lastEnd.exchange(recentPid, recentEnd) }
            prev = lastEnd.exchange(pid, endT)
            recentPid = pid
            hasRecent = true
            recentDirty = false
        }
        recentEnd = endT
        return (prev, startT, endT)
    }

    /// An event's start delta and duration: to the time column (2.0), else at `w` in its
    /// record (1.x). Every time stamp rounds down the same way, so comparing any two stored
    /// times gives the same order as comparing the true ones (or a tie).
    @inline(__always)
    private mutating func putTimes(_ t: (before: UInt64, startT: UInt64, endT: UInt64), _ w: inout RawCursor) {
        let startDelta = Int64(bitPattern: t.startT &- t.before), duration = Int64(bitPattern: t.endT &- t.startT)
        if timesInColumn {
            times.append(startDelta: startDelta, duration: duration)
        } else {
            w.svarint(startDelta)
            w.svarint(duration)
        }
    }

    /// Writes an event's kind, a length placeholder, flags, pid and times; returns where the
    /// length byte and the body start. Needs 64 reserved bytes.
    @inline(__always)
    private mutating func begin(
        kind: EventKind, flags: UInt8, pid: ProcessID, start: UInt64, end: UInt64
    )
        -> (lengthAt: Int, bodyStart: Int)
    {
        let times = previousEnd(pid: pid, start: start, end: end)
        varint(UInt64(kind.rawValue))
        let lengthAt = count
        put(0)
        let bodyStart = count
        put(flags)
        varint(pid)
        var w = RawCursor(base + count)
        putTimes(times, &w)
        count = w.p - base
        return (lengthAt, bodyStart)
    }

    @inline(__always)
    private mutating func messageDelta(_ message: MessageID) {
        svarint(Int64(bitPattern: message &- lastMessage))
        lastMessage = message
    }

    @inline(__always)
    private mutating func digest(size: UInt64, _ h: UInt64) {
        varint(size)
        base.storeBytes(of: h.littleEndian, toByteOffset: count, as: UInt64.self)
        count &+= 8
    }

    /// Fills in the body length of the event begun at `lengthAt` (moving the body when the
    /// length needs more than one byte) and counts the event.
    @inline(__always)
    private mutating func end(lengthAt: Int, bodyStart: Int) {
        let bodyLen = count - bodyStart
        if bodyLen < 0x80 {
            base.storeBytes(of: UInt8(bodyLen), toByteOffset: lengthAt, as: UInt8.self)
        } else {
            longLength(lengthAt: lengthAt, bodyStart: bodyStart, bodyLen: bodyLen)
        }
        eventCount &+= 1
    }

    private mutating func longLength(lengthAt: Int, bodyStart: Int, bodyLen: Int) {
        let extra = ByteWriter.varintSize(UInt64(bodyLen)) - 1
        reserve(extra)
        (base + bodyStart + extra).copyMemory(from: base + bodyStart, byteCount: bodyLen)
        let end = count + extra
        count = lengthAt
        varint(UInt64(bodyLen))
        count = end
    }

    /// Texts longer than `limit` bytes (by default `TraceLayout.maxTextBytes`) are cut (on a
    /// character boundary).
    static func cut(_ s: String, to limit: Int = TraceLayout.maxTextBytes) -> String {
        guard s.utf8.count > limit else { return s }
        var end = s.utf8.index(s.utf8.startIndex, offsetBy: limit)
        while end > s.startIndex && end.samePosition(in: s.unicodeScalars) == nil { end = s.utf8.index(before: end) }
        return String(s[..<end])
    }

    /// Writes the time column (format 2.0) after the events and the block-start record in
    /// front of them; returns the range of `storage` holding the complete raw block.
    mutating func finish(firstEventIndex: UInt64) -> Range<Int> {
        let eventBytes = sealTimes()
        return BlockEncoder.writeBlockStart(
            into: storage, eventCount: eventCount, firstEventIndex: firstEventIndex, eventBytes: eventBytes)..<count
    }

    /// Format 2.0: appends the time column after the events (and empties it); returns the
    /// bytes of the event records. `nil` in format 1.x.
    private mutating func sealTimes() -> Int? {
        guard timesInColumn else { return nil }
        let eventBytes = count - BlockEncoder.headerRoom
        reserve(times.recordBytes)
        count = times.write(into: base, at: count)
        times.reset()
        return eventBytes
    }

    /// Writes a block-start record into the room kept in front of a block's events; returns
    /// where the record (the raw block) starts. `eventBytes`: format 2.0's third field.
    static func writeBlockStart(into storage: BlockBytes, eventCount: Int, firstEventIndex: UInt64, eventBytes: Int?) -> Int {
        var body = ByteWriter(capacity: 30)
        body.varint(UInt64(eventCount))
        body.varint(firstEventIndex)
        if let eventBytes { body.varint(UInt64(eventBytes)) }
        var rec = ByteWriter(capacity: 32)
        rec.varint(TraceLayout.blockStartCode)
        rec.varint(UInt64(body.count))
        rec.raw(body.bytes)
        let start = BlockEncoder.headerRoom - rec.count
        rec.bytes.withUnsafeBytes { (storage.base + start).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return start
    }

    /// Finishes the block, hands its bytes out, and starts the next block in `next`.
    mutating func take(firstEventIndex: UInt64, next: BlockBytes) -> FilledBlock {
        let body = detach(next: next)
        return body.opened(firstEventIndex: firstEventIndex)
    }

    /// Hands out the block's events without a block-start record (whose event index is not
    /// known yet: a flight recorder's ring), and starts the next block in `next`.
    mutating func detach(next: BlockBytes) -> BlockBody {
        let eventBytes = sealTimes()
        let body = BlockBody(
            storage: storage, end: count, eventBytes: eventBytes, eventCount: eventCount, firstStart: firstStart,
            lastEnd: maxEnd)
        storage = next
        base = next.base
        capacity = next.capacity
        reset()
        return body
    }

    /// The most bytes `encode(_:payload:capture:)` can reserve for one event: it never grows
    /// storage that has this much room left. `payloadBytes` = the payload's size (nil: none).
    static func maxRecordBytes(payloadBytes: Int?, capture: PayloadCapture) -> Int {
        guard let n = payloadBytes, !capture.digests(size: n) else { return 192 }
        return 192 + n
    }

    /// The most bytes `encode(_:capture:)` can reserve for `e` (see `maxRecordBytes`).
    static func maxEventBytes(_ e: TraceEvent, capture: PayloadCapture) -> Int {
        var n = 192 + 10 * (e.args.count + e.tags.count) + e.text.utf8.count
        if case .bytes(let b) = e.payload, !capture.digests(size: b.count) { n += b.count }
        if case .trap(let reason) = e.result { n += reason.utf8.count }
        return n
    }

    /// Starts a new block in the same storage.
    mutating func reset() {
        count = BlockEncoder.headerRoom
        lastEnd.removeAll()
        hasRecent = false
        recentDirty = false
        lastMessage = 0
        payloads.reset()
        times.reset()
        eventCount = 0
        maxEnd = 0
    }

    /// The raw block bytes in `range` (for tests).
    func bytes(_ range: Range<Int>) -> [UInt8] { Array(storage.bytes(range)) }
}

extension EventRecord {
    /// `e` without its payload, when it has no tags, no text, no trap and at most 4 arguments.
    @inline(__always)
    init?(plain e: TraceEvent) {
        let args = e.args
        guard args.spill.isEmpty, e.tags.isEmpty, e.text.isEmpty else { return nil }
        let result: Int64?
        switch e.result {
        case .none: result = nil
        case .value(let v): result = v
        case .trap: return nil
        }
        self.init(kind: e.kind, pid: e.pid, start: e.start, end: e.end, message: e.message, result: result)
        // The inline arguments as they are (no spill: at most four).
        count = args.count0
        a0 = args.a0; a1 = args.a1; a2 = args.a2; a3 = args.a3
    }
}

/// A write position in reserved memory, held in a local so the compiler keeps it in a register.
struct RawCursor {
    var p: UnsafeMutableRawPointer

    @inline(__always) init(_ p: UnsafeMutableRawPointer) { self.p = p }

    @inline(__always) mutating func put(_ b: UInt8) {
        p.storeBytes(of: b, as: UInt8.self)
        p += 1
    }

    @inline(__always) mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            put(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        put(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always) mutating func svarint(_ v: Int64) { varint(Zigzag.encode(v)) }
}
