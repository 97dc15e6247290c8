import Testing

@testable import TraceFormat

/// Files from newer minor versions stay readable: unknown frames, records and fields are skipped.
@Suite struct ForwardCompatibilityTests {
    /// Builds a file by hand: header, one block from `raw`, and a summary.
    private func file(rawBlock raw: [UInt8], events: UInt64, extraFrame: [UInt8] = []) throws -> [UInt8] {
        var out = MetadataFrames.header(TraceHeader(timeUnitNanos: 1))
        out += extraFrame
        let compressor = ZstdCompressor(level: 3)
        out += try raw.withUnsafeBytes { src in try compressor.compress(src) { Array($0) } }
        out += extraFrame
        let size = UInt64(out.count + 8 + TraceLayout.summaryContentBytes)
        out += MetadataFrames.summary(
            TraceSummary(
                eventCount: events, blockCount: 1, rawBytes: UInt64(raw.count),
                fileBytes: size), indexOffset: nil)
        return out
    }

    private func rawBlock(_ events: [TraceEvent], extraRecords: [UInt8] = []) -> [UInt8] {
        var enc = BlockEncoder(unit: 1, capacity: 256, timesInColumn: true)
        for e in events { enc.encode(e) }
        enc.appendRaw(extraRecords)
        let range = enc.finish(firstEventIndex: 0)
        return enc.bytes(range)
    }

    @Test func unknownRecordCodesAndSkippableFramesAreSkipped() throws {
        let events = [
            TraceEvent(kind: .send, pid: 1, start: 10, end: 20, args: [2], message: 1),
            TraceEvent(kind: EventKind(rawValue: 4000), pid: 2, start: 30, text: "from the future"),
        ]
        var unknown = ByteWriter()
        unknown.varint(0x1_0005)  // a non-event record code
        unknown.varint(3)
        unknown.raw([1, 2, 3])
        var skippable = ByteWriter()
        skippable.u32(0x184D_2A5E)
        skippable.u32(5)
        skippable.raw([9, 9, 9, 9, 9])
        let bytes = try file(rawBlock: rawBlock(events, extraRecords: unknown.bytes), events: 2, extraFrame: skippable.bytes)
        let (read, stop) = TraceSamples.readAll(try TraceReader(bytes: bytes))
        #expect(read == events)
        if case .complete = stop {} else { Issue.record("expected complete, got \(stop)") }
    }

    @Test func trailingFieldsInAnEventBodyAreSkipped() throws {
        let event = TraceEvent(kind: .getTag, pid: 4, start: 7, end: 8, result: .value(-3))
        var raw = rawBlock([event])
        // Re-encode the single record with extra body bytes a newer writer might add: after
        // the payload reference (0 = none), two bytes of a later field. The block start says
        // how many bytes the events take (2.0), so it grows by as many.
        let recordStart = 5  // block-start record: 00 03 01 00, then the event bytes
        #expect(Array(raw[0..<4]) == [0x00, 0x03, 0x01, 0x00])
        let bodyLength = Int(raw[recordStart + 1])
        #expect(Int(raw[4]) == 2 + bodyLength)
        raw[4] += 3
        raw[recordStart + 1] = UInt8(bodyLength + 3)
        raw.insert(contentsOf: [0x00, 0xAA, 0xBB], at: recordStart + 2 + bodyLength)
        let (read, _) = TraceSamples.readAll(try TraceReader(bytes: try file(rawBlock: raw, events: 1)))
        #expect(read == [event])
    }

    // MARK: the header's window (format 1.2)

    static let windowed = TraceHeader(
        producer: "luna-trace run", wallClockStartNanos: 42, metadata: ["guest": "g.wasm"],
        window: TraceWindow(
            droppedEvents: 123_456, droppedBytes: 1 << 20,
            startNanos: 987_654_321, trigger: "SIGUSR1"))

    /// A header frame's content without its check word.
    private func content(_ frame: [UInt8]) -> [UInt8] { Array(frame[8..<(frame.count - 4)]) }

    private func parse(_ frame: [UInt8]) throws -> TraceHeader {
        try frame.withUnsafeBytes { try MetadataFrames.parseHeader(UnsafeRawBufferPointer(rebasing: $0[8...]), offset: 8) }
    }

    @Test func aWindowSurvivesTheHeaderRoundTrip() throws {
        let bytes = try TraceSamples.write(TraceSamples.pingPong(rounds: 2), header: Self.windowed).bytes
        let reader = try TraceReader(bytes: bytes)
        #expect(reader.header == Self.windowed)
        #expect(reader.header.window?.isPartial == true)
        var whole = Self.windowed
        whole.window = nil
        #expect(try TraceReader(bytes: try TraceSamples.write([], header: whole).bytes).header.window == nil)
    }

    /// A 1.1 reader stops after the metadata pairs and ignores what follows up to the check:
    /// the window is appended there, so it reads a windowed header as the same header without it.
    @Test func aWindowedHeaderIsTheWholeRecordingsLayoutPlusTrailingFields() throws {
        var whole = Self.windowed
        whole.window = nil
        let plain = content(MetadataFrames.header(whole)), windowed = content(MetadataFrames.header(Self.windowed))
        #expect(windowed.count > plain.count && Array(windowed.prefix(plain.count)) == plain)
        // The 1.1 layout: nothing after the metadata of a whole recording's header.
        var w = ByteWriter()
        w.raw(TraceLayout.headerSignature)
        w.u16(TraceHeader.currentMajor)
        w.u16(TraceHeader.currentMinor)
        w.string("luna-trace run")
        w.string("monotonic")
        w.u64(42)
        w.varint(100)
        w.varint(1)
        w.string("guest")
        w.string("g.wasm")
        #expect(plain == w.bytes)
    }

    @Test func fieldsAfterTheWindowFromLaterVersionsAreIgnored() throws {
        var w = ByteWriter()
        w.raw(content(MetadataFrames.header(Self.windowed)) + [0xAA, 0xBB, 0x01])
        #expect(try parse(MetadataFrames.frame(magic: TraceLayout.headerMagic, content: w)) == Self.windowed)
        // An unknown window code: the rest of the header is a later version's.
        var whole = Self.windowed
        whole.window = nil
        var unknown = ByteWriter()
        unknown.raw(content(MetadataFrames.header(whole)) + [0x07, 0xFF, 0xFF])
        #expect(try parse(MetadataFrames.frame(magic: TraceLayout.headerMagic, content: unknown)) == whole)
    }
}
