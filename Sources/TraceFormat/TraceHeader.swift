/// The file header: what wrote the trace and how its times are to be read.
public struct TraceHeader: Sendable, Equatable {
    /// Major format version; a reader rejects majors newer than its own.
    public var formatMajor: UInt16
    /// Minor format version; readers accept any minor of their major.
    public var formatMinor: UInt16
    /// The program that wrote the trace (e.g. `luna 0.1`).
    public var producer: String
    /// Description of the clock event times come from (e.g. `monotonic`).
    public var clock: String
    /// Wall-clock time of event time 0, in nanoseconds since the Unix epoch.
    public var wallClockStartNanos: UInt64
    /// Granularity of stored event times in nanoseconds: every time `t` is stored as
    /// `floor(t / unit)` and read back as `stored * unit`, which keeps the order of any two
    /// times (ties aside). 1 = exact. See the format document.
    public var timeUnitNanos: UInt64
    /// Free key/value pairs (command line, host name, …).
    public var metadata: [String: String]
    /// Set when the trace holds only the last part of a recording (a flight recorder's dump):
    /// how much came before its first event. `nil`: the trace starts where the recording did.
    public var window: TraceWindow?

    /// The format version this library writes.
    /// (2: each block's event times in a column after its events; 1: times inside each
    /// event, which this library still writes for a header that asks for it.)
    public static let currentMajor: UInt16 = 2
    /// The minor version this library writes. In major 1: 1 = `send_receive_skip_search` as
    /// two events; 2 = the header's window, for flight recorder dumps; 3 = payloads by
    /// reference. Major 2 began with all of them.
    public static let currentMinor: UInt16 = 0
    /// The default time unit, 100 ns (see `timeUnitNanos`): finer than any host call's cost
    /// worth telling apart, and it cuts the compressed size per event by two thirds against
    /// exact nanoseconds (timing jitter is most of a trace's entropy).
    public static let defaultTimeUnitNanos: UInt64 = 100

    /// The newest minor version of `major` this library writes (major 1: 3, payload
    /// references; the current major: `currentMinor`).
    public static func newestMinor(ofMajor major: UInt16) -> UInt16 { major == 1 ? 3 : currentMinor }

    /// Whether blocks of this version keep their events' times in a time column (2.0 and
    /// later) rather than inside each event record (1.x).
    public var timesInColumn: Bool { formatMajor >= 2 }

    /// A header of the current format version.
    public init(
        producer: String = "luna", clock: String = "monotonic", wallClockStartNanos: UInt64 = 0,
        timeUnitNanos: UInt64 = TraceHeader.defaultTimeUnitNanos, metadata: [String: String] = [:],
        window: TraceWindow? = nil, formatMajor: UInt16 = TraceHeader.currentMajor, formatMinor: UInt16 = TraceHeader.currentMinor
    ) {
        self.formatMajor = formatMajor
        self.formatMinor = formatMinor
        self.producer = producer
        self.clock = clock
        self.wallClockStartNanos = wallClockStartNanos
        self.timeUnitNanos = max(1, timeUnitNanos)
        self.metadata = metadata
        self.window = window
    }
}
