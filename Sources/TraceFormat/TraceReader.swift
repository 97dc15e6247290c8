/// Reads a trace file event by event (see `docs/TRACE_FORMAT.md`).
///
/// Memory is bounded by one block: the reader holds the current zstd frame and its decompressed
/// bytes, never the file. A damaged or cut file yields every event before the problem; `stop`
/// then says where and why reading ended.
public final class TraceReader {
    /// The file header.
    public let header: TraceHeader
    /// Where and why reading ended; `.reading` until then.
    @exclusivity(unchecked) public private(set) var stop: TraceStop = .reading
    /// Number of events before the next one `next()` returns (its index in the trace as read).
    /// For a format 1.0 file, whose skip-search calls are read as two events each, this counts
    /// the events as read, not as stored.
    public var eventsRead: UInt64 { splitter == nil ? storedRead : returned }
    /// Number of blocks before the current (or next) one.
    @exclusivity(unchecked) public private(set) var blocksRead: UInt64 = 0
    /// The frame index, when the trace has one that could be read (files and bytes read from the
    /// start; for a stream, once its end was reached).
    @exclusivity(unchecked) public private(set) var blockIndex: [BlockIndexEntry]?
    /// The closing summary, once read (for files and bytes, read up front when present).
    @exclusivity(unchecked) public private(set) var summary: TraceSummary?
    /// Decompressed bytes of the blocks read so far (the summary's `rawBytes` once complete).
    @exclusivity(unchecked) public private(set) var rawBytesRead: UInt64 = 0
    /// Byte offset of the next frame to read (the input's size once reading is complete).
    public var offset: UInt64 { input.offset }

    let input: TraceInput
    private let decompressor = ZstdDecompressor()
    // A reader is used from one thread at a time (it is not Sendable), so the dynamic
    // exclusivity checks on its per-event state are skipped: they cost more than decoding.
    /// Allocated once the header has been read, so a failed open leaks nothing.
    @exclusivity(unchecked) private var block: UnsafeMutableRawBufferPointer
    @exclusivity(unchecked) private var blockReader: ByteReader
    @exclusivity(unchecked) private var decoder: BlockDecoder
    @exclusivity(unchecked) private var inBlock = false
    @exclusivity(unchecked) private var blockOffset: UInt64 = 0
    @exclusivity(unchecked) private var eventsLeftInBlock: UInt64 = 0
    @exclusivity(unchecked) private var declaredInBlock: UInt64 = 0
    /// Events decoded from the file's blocks so far.
    @exclusivity(unchecked) private var storedRead: UInt64 = 0
    /// For a format 1.0 file: turns its events into the current shape (`SkipSearchSplitter`).
    @exclusivity(unchecked) private var splitter: SkipSearchSplitter?
    /// Events handed out through the splitter.
    @exclusivity(unchecked) private var returned: UInt64 = 0
    /// An event read ahead by `seek(toEvent:)`, handed out next.
    @exclusivity(unchecked) private var peeked: TraceEvent?
    /// Damage met while the splitter still held events: thrown once they are handed out.
    @exclusivity(unchecked) private var deferredError: TraceFormatError?
    /// Offset of the first frame after the header (where reading from the start begins).
    private let firstFrameOffset: UInt64

    /// Opens the trace at `path`.
    public convenience init(path: String) throws {
        let fd = try FileDescriptorIO.openForReading(path)
        try self.init(input: TraceInput(fd: fd, owned: true, allowSeeking: true))
    }

    /// Reads a trace held in memory.
    public convenience init(bytes: [UInt8]) throws {
        try self.init(input: TraceInput(bytes: bytes))
    }

    /// Reads a trace from an open descriptor as a stream (e.g. 0 for standard input); no seeking.
    /// The descriptor is not closed.
    public convenience init(fileDescriptor: Int32) throws {
        try self.init(input: TraceInput(fd: fileDescriptor, owned: false, allowSeeking: false))
    }

    init(input: TraceInput) throws {
        self.input = input
        header = try TraceReader.readHeader(input)
        block = .allocate(byteCount: 1 << 16, alignment: 16)
        decoder = BlockDecoder(unit: header.timeUnitNanos, timesInColumn: header.timesInColumn)
        blockReader = ByteReader(UnsafeRawBufferPointer(block), to: 0, base: 0)
        firstFrameOffset = input.offset
        if header.formatMajor == 1 && header.formatMinor == 0 { splitter = SkipSearchSplitter() }
        if input.seekable { loadTrailer() }
    }

    deinit { block.deallocate() }

    private static func readHeader(_ input: TraceInput) throws(TraceFormatError) -> TraceHeader {
        let got = try input.ensure(8)
        if got == 0 { throw TraceFormatError(.emptyFile, offset: 0, "the input is empty") }
        let magic: [UInt8] = [0x50, 0x2A, 0x4D, 0x18]
        let present = Array(input.peek(min(got, 4)))
        guard present == Array(magic[0..<present.count]) else {
            throw TraceFormatError(
                .notATrace, offset: 0, "the input does not start with a Luna trace header frame (magic 50 2A 4D 18)")
        }
        guard got == 8 else {
            throw TraceFormatError(.truncated, offset: 0, "the input ends at byte \(got), inside the header frame")
        }
        let size = Int(input.u32(4))
        guard size <= TraceLayout.maxMetadataBytes else {
            throw TraceFormatError(.corruptFrame, offset: 4, "header frame claims \(size) bytes")
        }
        let have = try input.ensure(8 + size)
        guard have == 8 + size else {
            throw TraceFormatError(
                .truncated, offset: 0, "the input ends at byte \(have), inside the header frame (\(8 + size) bytes)")
        }
        let header = try MetadataFrames.parseHeader(UnsafeRawBufferPointer(rebasing: input.peek(8 + size)[8...]), offset: 8)
        input.consume(8 + size)
        return header
    }

    /// Reads the closing summary and frame index from the end of a seekable input, if both are
    /// present and intact. Problems here are not errors: streaming reading finds them.
    private func loadTrailer() {
        guard let size = input.size else { return }
        let frameBytes = 8 + TraceLayout.summaryContentBytes
        guard size >= UInt64(frameBytes),
            let tail = try? input.read(at: size - UInt64(frameBytes), count: frameBytes)
        else { return }
        let ok: Bool = tail.withUnsafeBytes { t in
            var r = ByteReader(t, base: size - UInt64(frameBytes))
            guard (try? r.u32()) == TraceLayout.summaryMagic, (try? r.u32()) == UInt32(TraceLayout.summaryContentBytes)
            else { return false }
            return true
        }
        guard ok else { return }
        let parsed = tail.withUnsafeBytes { t in
            try? MetadataFrames.parseSummary(UnsafeRawBufferPointer(rebasing: t[8...]), offset: size - UInt64(frameBytes) + 8)
        }
        guard let parsed, let indexOffset = parsed.indexOffset, indexOffset < size,
            let head = try? input.read(at: indexOffset, count: 8)
        else { return }
        let length: UInt64 = head.withUnsafeBytes { h in
            var r = ByteReader(h, base: indexOffset)
            guard (try? r.u32()) == TraceLayout.indexMagic, let n = try? r.u32() else { return UInt64.max }
            return UInt64(n)
        }
        guard length <= UInt64(TraceLayout.maxMetadataBytes),
            let content = try? input.read(at: indexOffset + 8, count: Int(length)),
            let entries = content.withUnsafeBytes({ try? MetadataFrames.parseIndex($0, offset: indexOffset + 8) }),
            UInt64(entries.count) == parsed.summary.blockCount
        else { return }
        blockIndex = entries
        summary = parsed.summary
    }

    // MARK: streaming

    /// The next event, or `nil` at the end of the trace (see `stop` for how it ended).
    /// Throws on damaged data; `stop` is then `.damaged` and later calls return `nil`.
    public func next() throws(TraceFormatError) -> TraceEvent? {
        var e = TraceEvent(kind: EventKind(rawValue: 0), pid: 0)
        return try next(into: &e) ? e : nil
    }

    /// Reads the next event into `event`, reusing its storage (every field is overwritten);
    /// returns false at the end of the trace. The fastest way to scan a trace.
    public func next(into event: inout TraceEvent) throws(TraceFormatError) -> Bool {
        if splitter != nil { return try nextSplit(into: &event) }
        return try nextStored(into: &event)
    }

    /// The next event of a format 1.0 file, in the current shape. Events the splitter holds
    /// when the file turns out damaged are handed out before the damage is thrown.
    private func nextSplit(into event: inout TraceEvent) throws(TraceFormatError) -> Bool {
        if let p = peeked {
            peeked = nil
            event = p
            returned += 1
            return true
        }
        while splitter!.hasReady == false {
            if let error = deferredError {
                deferredError = nil
                throw error
            }
            if case .reading = stop {
                do throws(TraceFormatError) {
                    if try nextStored(into: &event) {
                        splitter!.push(event)
                        continue
                    }
                } catch {
                    deferredError = error
                }
            }
            splitter!.finish()
            if !splitter!.hasReady {
                if let error = deferredError {
                    deferredError = nil
                    throw error
                }
                return false
            }
        }
        event = splitter!.pop()!
        returned += 1
        return true
    }

    /// The next event as stored in the file's blocks.
    private func nextStored(into event: inout TraceEvent) throws(TraceFormatError) -> Bool {
        do throws(TraceFormatError) {
            while true {
                if inBlock {
                    while !blockReader.atEnd {
                        if try decodeRecord(into: &event) { return true }
                    }
                    guard eventsLeftInBlock == 0 else {
                        throw TraceFormatError(
                            .badEvent, offset: blockOffset,
                            "block at byte \(blockOffset) ends after \(declaredInBlock - eventsLeftInBlock) of its \(declaredInBlock) events"
                        )
                    }
                    inBlock = false
                    blocksRead += 1
                }
                guard case .reading = stop else { return false }
                try readFrame()
            }
        } catch {
            inBlock = false
            stop = .damaged(error)
            throw error
        }
    }

    @inline(__always) private func decodeRecord(into e: inout TraceEvent) throws(TraceFormatError) -> Bool {
        do throws(TraceFormatError) {
            guard try decoder.next(&blockReader, into: &e) else { return false }
        } catch {
            throw TraceFormatError(
                .badEvent, offset: blockOffset,
                "block at byte \(blockOffset), raw byte \(error.offset): \(error.detail)")
        }
        guard eventsLeftInBlock > 0 else {
            throw TraceFormatError(
                .badEvent, offset: blockOffset,
                "block at byte \(blockOffset) holds more than the \(declaredInBlock) events it declares")
        }
        eventsLeftInBlock -= 1
        storedRead += 1
        return true
    }

    /// All remaining events as a sequence that ends at the first error; read `stop` afterwards.
    public func events() -> Events { Events(reader: self) }

    /// Iterates a reader; ends at the end of the trace or at the first error.
    public struct Events: Sequence, IteratorProtocol {
        /// The reader being iterated.
        public let reader: TraceReader
        /// The next event, or `nil` at the end or at the first error (see `reader.stop`).
        public mutating func next() -> TraceEvent? { try? reader.next() }
        /// Where and why iteration ended.
        public var stop: TraceStop { reader.stop }
        /// The error that ended iteration early (damage or truncation), if any.
        public var error: TraceFormatError? { reader.stop.error }
    }

    private func incomplete(_ at: UInt64, _ kind: TraceFormatError.Kind, _ detail: String) {
        stop = .incomplete(lastGoodOffset: at, reason: TraceFormatError(kind, offset: at, detail))
    }

    /// Reads the frame at the current offset: sets up a block, takes in metadata, or ends.
    private func readFrame() throws(TraceFormatError) {
        let at = input.offset
        let got = try input.ensure(8)
        if got == 0 {
            incomplete(
                at, .missingSummary, "the trace ends at byte \(at) without a closing summary (its writer did not close it)")
            return
        }
        if got >= 4 && input.u32(0) == TraceLayout.zstdMagic {
            try readBlock(at: at)
            return
        }
        guard got >= 4 else {
            incomplete(at, .truncated, "the file ends at byte \(at + UInt64(got)) inside the frame starting at byte \(at)")
            return
        }
        let magic = input.u32(0)
        guard magic & TraceLayout.skippableMagicMask == TraceLayout.headerMagic else {
            throw TraceFormatError(
                .corruptFrame, offset: at, "no frame starts at byte \(at) (magic \(MetadataFrames.hex32(magic)))")
        }
        guard got == 8 else {
            incomplete(at, .truncated, "the file ends at byte \(at + UInt64(got)) inside the frame starting at byte \(at)")
            return
        }
        let size = UInt64(input.u32(4))
        switch magic {
        case TraceLayout.headerMagic:
            throw TraceFormatError(.corruptFrame, offset: at, "a second header frame at byte \(at)")
        case TraceLayout.indexMagic, TraceLayout.summaryMagic:
            guard size <= UInt64(TraceLayout.maxMetadataBytes) else {
                throw TraceFormatError(.corruptFrame, offset: at, "metadata frame at byte \(at) claims \(size) bytes")
            }
            let total = 8 + Int(size)
            let have = try input.ensure(total)
            guard have == total else {
                incomplete(
                    at, .truncated,
                    "the file ends at byte \(at + UInt64(have)) inside the \(magic == TraceLayout.indexMagic ? "index" : "summary") frame starting at byte \(at)"
                )
                return
            }
            let content = UnsafeRawBufferPointer(rebasing: input.peek(total)[8...])
            if magic == TraceLayout.indexMagic {
                let entries = try MetadataFrames.parseIndex(content, offset: at + 8)
                if blockIndex == nil { blockIndex = entries }
                input.consume(total)
            } else {
                let parsed = try MetadataFrames.parseSummary(content, offset: at + 8)
                input.consume(total)
                try finishWith(parsed.summary, at: at)
            }
        default:
            let skipped = try input.skip(8 + size)
            if skipped < 8 + size {
                incomplete(at, .truncated, "the file ends at byte \(at + skipped) inside the frame starting at byte \(at)")
            }
        }
    }

    private func finishWith(_ s: TraceSummary, at: UInt64) throws(TraceFormatError) {
        guard s.eventCount == storedRead, s.blockCount == blocksRead else {
            throw TraceFormatError(
                .corruptFrame, offset: at,
                "the closing summary counts \(s.eventCount) events in \(s.blockCount) blocks, the file holds \(storedRead) in \(blocksRead)"
            )
        }
        if try input.ensure(1) > 0 {
            throw TraceFormatError(.corruptFrame, offset: input.offset, "data after the closing summary at byte \(input.offset)")
        }
        summary = s
        stop = .complete(s)
    }

    /// Reads, checks and decompresses the zstd frame at `at`, and opens its block.
    private func readBlock(at: UInt64) throws(TraceFormatError) {
        guard let frame = try ZstdFrameWalker.measure(input, at: at) else {
            incomplete(
                at, .truncated,
                "the file ends at byte \(at + UInt64(input.available)) inside the block frame starting at byte \(at)")
            return
        }
        let capacity = frame.contentSize.map { Int($0) } ?? min(frame.contentBound, TraceLayout.maxBlockBytes)
        if block.count < capacity {
            block.deallocate()
            block = .allocate(byteCount: max(capacity, block.count * 2), alignment: 16)
        }
        let result = decompressor.decompress(
            input.peek(frame.size),
            into: UnsafeMutableRawBufferPointer(rebasing: block[0..<capacity]))
        let n: Int
        switch result {
        case .success(let size): n = size
        case .failure(let e) where e.isOutputTooSmall && capacity == TraceLayout.maxBlockBytes:
            throw TraceFormatError(
                .decompressionBomb, offset: at,
                "block at byte \(at) decompresses to more than \(TraceLayout.maxBlockBytes) bytes")
        case .failure(let e):
            throw TraceFormatError(.corruptFrame, offset: at, "block at byte \(at) does not decompress: \(e.name)")
        }
        if let expected = frame.contentSize, UInt64(n) != expected {
            throw TraceFormatError(
                .corruptFrame, offset: at, "block at byte \(at) decompresses to \(n) bytes, its header says \(expected)")
        }
        input.consume(frame.size)
        rawBytesRead &+= UInt64(n)
        blockOffset = at
        blockReader = ByteReader(UnsafeRawBufferPointer(rebasing: block[0..<n]), base: 0)
        let opened: (count: UInt64, first: UInt64)
        do throws(TraceFormatError) {
            opened = try decoder.begin(&blockReader)
        } catch {
            throw TraceFormatError(.badEvent, offset: at, "block at byte \(at), raw byte \(error.offset): \(error.detail)")
        }
        guard opened.first == storedRead else {
            throw TraceFormatError(
                .badEvent, offset: at,
                "block at byte \(at) starts at event \(opened.first), expected \(storedRead)")
        }
        guard opened.count <= UInt64(n) else {
            throw TraceFormatError(.badEvent, offset: at, "block at byte \(at) declares \(opened.count) events in \(n) bytes")
        }
        eventsLeftInBlock = opened.count
        declaredInBlock = opened.count
        inBlock = true
    }

    // MARK: seeking

    /// Positions the reader at the start of block `block` (0-based) of the frame index, so the
    /// next event is that block's first. Needs a seekable input and a frame index, and a file of
    /// format 1.1 or later (a 1.0 file is read from its start: its events are reshaped in order).
    public func seek(toBlock number: Int) throws(TraceFormatError) {
        if splitter != nil {
            throw TraceFormatError(
                .usage, offset: input.offset,
                "a format 1.0 trace is read from its start, not from block \(number): its skip-search events are split as they are read"
            )
        }
        guard input.seekable, let index = blockIndex else {
            throw TraceFormatError(.noIndex, offset: input.offset, "this trace has no frame index to seek with")
        }
        guard number >= 0 && number < index.count else {
            throw TraceFormatError(.usage, offset: input.offset, "block \(number) out of range 0..<\(index.count)")
        }
        let entry = index[number]
        try input.seek(to: entry.frameOffset)
        inBlock = false
        storedRead = entry.firstEventIndex
        blocksRead = UInt64(number)
        stop = .reading
    }

    /// Positions the reader so the next event is event `index` (0-based) of the file, seeking
    /// to its block by the frame index and skipping the events before it there. A format 1.0
    /// file is read again from its start up to that event.
    public func seek(toEvent index: UInt64) throws(TraceFormatError) {
        if splitter != nil {
            try rewind()
            var event = TraceEvent(kind: EventKind(rawValue: 0), pid: 0)
            while true {
                guard try nextSplit(into: &event) else {
                    throw TraceFormatError(.usage, offset: input.offset, "event \(index) is past the end of the trace")
                }
                if returned > index { break }
            }
            peeked = event  // event `index`: handed out again by the next read
            returned -= 1
            return
        }
        guard let blocks = blockIndex else {
            throw TraceFormatError(.noIndex, offset: input.offset, "this trace has no frame index to seek with")
        }
        var lo = 0, hi = blocks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if blocks[mid].firstEventIndex + UInt64(blocks[mid].eventCount) <= index { lo = mid + 1 } else { hi = mid }
        }
        guard lo < blocks.count else {
            throw TraceFormatError(.usage, offset: input.offset, "event \(index) is past the end of the trace")
        }
        try seek(toBlock: lo)
        while eventsRead < index { _ = try next() }
    }

    /// Positions the reader at its first event, as if just opened.
    private func rewind() throws(TraceFormatError) {
        guard input.seekable else {
            throw TraceFormatError(
                .noIndex, offset: input.offset, "this trace is a stream: it cannot be read again from its start")
        }
        try input.seek(to: firstFrameOffset)
        inBlock = false
        storedRead = 0
        blocksRead = 0
        rawBytesRead = 0
        stop = .reading
        if splitter != nil { splitter = SkipSearchSplitter() }
        returned = 0
        deferredError = nil
        peeked = nil
    }
}
