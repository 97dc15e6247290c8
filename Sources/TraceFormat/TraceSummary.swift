/// Totals of a trace, written in its closing summary frame.
public struct TraceSummary: Sendable, Equatable {
    /// Number of events in the trace.
    public var eventCount: UInt64
    /// Number of event blocks (zstd frames).
    public var blockCount: UInt64
    /// Sum of the blocks' decompressed sizes.
    public var rawBytes: UInt64
    /// Size of the whole file in bytes, summary included.
    public var fileBytes: UInt64
    /// Largest event end time (ns), 0 for an empty trace.
    public var lastEndNanos: UInt64

    /// Creates a summary.
    public init(
        eventCount: UInt64, blockCount: UInt64, rawBytes: UInt64 = 0, fileBytes: UInt64 = 0,
        lastEndNanos: UInt64 = 0
    ) {
        self.eventCount = eventCount
        self.blockCount = blockCount
        self.rawBytes = rawBytes
        self.fileBytes = fileBytes
        self.lastEndNanos = lastEndNanos
    }

    /// Compressed bytes per event (whole file), 0 for an empty trace.
    public var bytesPerEvent: Double { eventCount == 0 ? 0 : Double(fileBytes) / Double(eventCount) }
}

/// Where and why a reader stopped.
public enum TraceStop: Sendable, Equatable {
    /// Still reading.
    case reading
    /// The whole trace was read and its closing summary matched.
    case complete(TraceSummary)
    /// Every complete block was read, but the trace ends early: no closing summary, or the file
    /// is cut inside a frame. `lastGoodOffset` is the end of the last complete frame.
    case incomplete(lastGoodOffset: UInt64, reason: TraceFormatError)
    /// Reading stopped at damaged data.
    case damaged(TraceFormatError)

    /// The error behind an incomplete or damaged stop.
    public var error: TraceFormatError? {
        switch self {
        case .reading, .complete: return nil
        case .incomplete(_, let e), .damaged(let e): return e
        }
    }
}
