/// Emptied buffers (a writer's staged batches) kept for reuse, so a steady writer allocates (and
/// page-faults) nothing.
final class BytesPool: Sendable {
    private let buffers = Locked<[BlockBytes]>([])
    private let keep: Int

    init(keep: Int) { self.keep = keep }

    func take() -> BlockBytes? { buffers.withLock { $0.popLast() } }

    func give(_ b: BlockBytes) {
        buffers.withLock { if $0.count < keep { $0.append(b) } }
    }
}

/// Compresses and writes encoded blocks and keeps the index (a `TraceWriter`'s background
/// queue, after `BlockAssembler`; a flight recorder's dump).
/// @unchecked Sendable: every method except `error` runs on the writer's serial queue (or in
/// its init before the queue is used); `error` is read after `queue.sync`, which orders it.
final class BlockOutput: @unchecked Sendable {
    let fd: Int32
    let owned: Bool
    let header: TraceHeader
    let options: TraceWriter.Options
    let compressor: ZstdCompressor
    var offset: UInt64 = 0
    var index: [BlockIndexEntry] = []
    var eventCount: UInt64 = 0
    var rawBytes: UInt64 = 0
    var lastEnd: UInt64 = 0
    var error: TraceFormatError?
    var summary: TraceSummary?

    init(fd: Int32, owned: Bool, header: TraceHeader, options: TraceWriter.Options) {
        self.fd = fd
        self.owned = owned
        self.header = header
        self.options = options
        compressor = ZstdCompressor(level: Int32(clamping: options.compressionLevel))
    }

    func writeHeader() throws(TraceFormatError) {
        try put(MetadataFrames.header(header))
    }

    private func put(_ bytes: [UInt8]) throws(TraceFormatError) {
        let failure: TraceFormatError? = bytes.withUnsafeBytes { b in
            do throws(TraceFormatError) { try put(b); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    private func put(_ bytes: UnsafeRawBufferPointer) throws(TraceFormatError) {
        try FileDescriptorIO.writeAll(fd, bytes, offset: offset)
        offset += UInt64(bytes.count)
    }

    func write(_ block: FilledBlock) {
        guard error == nil, summary == nil else { return }
        let frameOffset = offset
        do {
            let frameBytes = try compressor.compress(block.storage.bytes(block.range)) { frame in
                try put(frame)
                return frame.count
            }
            index.append(
                BlockIndexEntry(
                    frameOffset: frameOffset, firstEventIndex: block.firstEventIndex,
                    eventCount: UInt32(block.eventCount), frameBytes: UInt32(frameBytes),
                    firstStartNanos: block.firstStart))
            eventCount += UInt64(block.eventCount)
            rawBytes += UInt64(block.range.count)
            lastEnd = max(lastEnd, block.lastEnd)
        } catch {
            self.error = (error as? TraceFormatError) ?? TraceFormatError(.io, offset: offset, "\(error)")
        }
    }

    func finish() throws -> TraceSummary {
        if let summary { return summary }
        if let error { closeDescriptor(); throw error }
        do {
            let indexOffset = offset
            try put(MetadataFrames.index(index))
            let fileBytes = offset + UInt64(8 + TraceLayout.summaryContentBytes)
            let s = TraceSummary(
                eventCount: eventCount, blockCount: UInt64(index.count), rawBytes: rawBytes,
                fileBytes: fileBytes, lastEndNanos: lastEnd)
            try put(MetadataFrames.summary(s, indexOffset: indexOffset))
            summary = s
            closeDescriptor()
            return s
        } catch {
            self.error = error
            closeDescriptor()
            throw error
        }
    }

    private var descriptorClosed = false

    func closeDescriptor() {
        guard owned, !descriptorClosed else { return }
        descriptorClosed = true
        _ = FileDescriptorIO.close(fd)
    }
}
