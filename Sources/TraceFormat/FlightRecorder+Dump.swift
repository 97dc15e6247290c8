import LunaSupport

/// What one dump of a flight recorder wrote.
public struct FlightDump: Sendable, Equatable {
    /// The trace file written.
    public var path: String
    /// Its closing summary (events, blocks, bytes).
    public var summary: TraceSummary
    /// What its header says about the events before it.
    public var window: TraceWindow
    /// Seconds the dump took (compressing and writing).
    public var seconds: Double
}

extension FlightRecorder {
    /// The dumps' own state: the final dump, once made.
    struct DumpState {
        var final: FlightDump?
    }

    /// Writes the ring's events as a complete trace at `path` (created or truncated), saying
    /// what `trigger` made the dump. Recording goes on: the ring is only locked to take its
    /// chunks (and to hand each back once written), never while compressing or writing. To
    /// start a fresh chunk the ring may first drop its oldest one. Dumps run one at a time.
    /// Throws when the file cannot be written, or after the final dump.
    @discardableResult
    public func dump(to path: String, trigger: String) throws -> FlightDump {
        try dumps.withLock { d in
            if let final = d.final {
                throw TraceFormatError(.usage, offset: 0, "the flight recorder was closed by its final dump to \(final.path)")
            }
            return try write(to: path, trigger: trigger, final: false)
        }
    }

    /// The final dump: stops recording (later events are ignored), writes every event still in
    /// the ring to `path`, and frees the ring. Later calls return the same dump without writing.
    @discardableResult
    public func close(to path: String, trigger: String) throws -> FlightDump {
        try dumps.withLock { d in
            if let final = d.final { return final }
            let dump = try write(to: path, trigger: trigger, final: true)
            d.final = dump
            // Written: the ring's memory can go (after a failure it stays, for another try).
            ring.withLock { r in
                r.chunks.removeAll()
                r.spare.removeAll()
            }
            return dump
        }
    }

    /// The final dump, if it has been made.
    public var finalDump: FlightDump? { dumps.withLock { $0.final } }

    private func write(to path: String, trigger: String, final: Bool) throws -> FlightDump {
        let began = MonotonicClock.now()
        let (chunks, window) = ring.withLock { r -> ([Chunk], TraceWindow) in
            if final {
                // No later event needs room: the current chunk joins the ring as it is.
                if r.encoder.eventCount > 0 { r.chunks.append(Chunk(r.encoder.detach(next: BlockBytes(capacity: 64)))) }
                r.closed = true
            } else {
                seal(&r)
            }
            for c in r.chunks { c.pinned = true }
            return (
                r.chunks,
                TraceWindow(
                    droppedEvents: r.dropped, droppedBytes: r.droppedBytes,
                    startNanos: r.droppedUntil, trigger: trigger)
            )
        }
        var unwritten = chunks[...]
        defer { release(Array(unwritten)) }  // the chunks not written, after a failure
        var header = self.header
        header.window = window
        let fd = try FileDescriptorIO.openForWriting(path)
        let output = BlockOutput(
            fd: fd, owned: true, header: header,
            options: TraceWriter.Options(compressionLevel: options.compressionLevel))
        do {
            try output.writeHeader()
        } catch {
            output.closeDescriptor()
            throw error
        }
        var firstEventIndex: UInt64 = 0
        while let chunk = unwritten.first {
            output.write(chunk.body.opened(firstEventIndex: firstEventIndex))
            firstEventIndex += UInt64(chunk.body.eventCount)
            unwritten = unwritten.dropFirst()
            release([chunk])
            if output.error != nil { break }
        }
        let summary = try output.finish()
        let seconds = Double(MonotonicClock.now() - began) / 1e9
        return FlightDump(path: path, summary: summary, window: window, seconds: seconds)
    }

    /// A dump is done with `chunks`: the ring may reuse them (those it dropped meanwhile become
    /// spare memory).
    private func release(_ chunks: [Chunk]) {
        guard !chunks.isEmpty else { return }
        ring.withLock { r in
            for c in chunks {
                c.pinned = false
                if c.detached { r.spare.append(c.body.storage) }
            }
        }
    }
}
