/// What a trace that holds only the last part of a recording (a flight recorder's dump) says
/// about the part it lacks. It lives in the header (format 1.2), so a reader knows it before the
/// first event: analysis can then tell "sent before the window" from "lost".
public struct TraceWindow: Sendable, Equatable {
    /// Events recorded before the trace's first event and not in the trace (overwritten in the
    /// ring). The trace's first event was event number `droppedEvents` (0-based) of the
    /// recording; the window follows the dropped events without a gap.
    public var droppedEvents: UInt64
    /// Raw (uncompressed) bytes those events took in the ring.
    public var droppedBytes: UInt64
    /// Where the window starts in trace time: the latest end time (ns) of a dropped event, 0
    /// when none was dropped. Events of the trace may start earlier (a long receive); what
    /// happened before this instant is only partly in the trace.
    public var startNanos: UInt64
    /// What made the recorder write the trace: `exit`, `trap`, `SIGUSR1`, `SIGINT`, `SIGTERM`,
    /// or a caller's own word.
    public var trigger: String

    /// A window description.
    public init(droppedEvents: UInt64, droppedBytes: UInt64 = 0, startNanos: UInt64 = 0, trigger: String = "") {
        self.droppedEvents = droppedEvents
        self.droppedBytes = droppedBytes
        self.startNanos = startNanos
        self.trigger = trigger
    }

    /// Whether anything before the trace's first event is missing.
    public var isPartial: Bool { droppedEvents > 0 }

    /// The header code of a window: 0 = the whole recording (also what an absent field means),
    /// 1 = a flight recorder's window with the fields above. Other codes are reserved.
    static let wholeRecordingCode: UInt64 = 0
    static let flightWindowCode: UInt64 = 1
}
