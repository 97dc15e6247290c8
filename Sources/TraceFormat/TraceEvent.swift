/// A trace-unique message identity, given when a message is created (or, for a LinkDied
/// message, when the notice is queued). 0 means "no message".
public typealias MessageID = UInt64

/// A process id: unique in an environment, from 1, never reused (R-PROC-1). 0 means "no
/// process" (the host, in events it records itself).
public typealias ProcessID = UInt64

/// One recorded event: a host call or a lifecycle change of one process.
///
/// The meaning of `args`, `tags`, `message`, `payload` and `text` depends on `kind`; the table
/// is in `docs/TRACE_FORMAT.md` and in the doc comment of each `EventKind` constant.
public struct TraceEvent: Sendable, Hashable {
    /// What happened.
    public var kind: EventKind
    /// The process the event belongs to (the caller of a host call). 0 = the host itself.
    public var pid: ProcessID
    /// Start time in nanoseconds since the trace's start (see the header's clock description).
    public var start: UInt64
    /// End time in nanoseconds since the trace's start; equal to `start` for instant events.
    public var end: UInt64
    /// Positional integer arguments (tags, capacities, ids, slot indices, timeouts).
    public var args: EventArguments
    /// A tag set (the tags of `receive`); empty when the call has none.
    public var tags: [Int64]
    /// The message the event concerns (created, sent, received, dropped); 0 = none.
    public var message: MessageID
    /// Bytes moved by the call (written or read), under the writer's capture policy.
    public var payload: Payload
    /// Free text: entry function name, exit or trap reason, sub-call name.
    public var text: String
    /// The call's outcome.
    public var result: CallResult

    /// Creates an event; only `kind` and `pid` are required.
    @inlinable
    public init(
        kind: EventKind, pid: ProcessID, start: UInt64 = 0, end: UInt64? = nil,
        args: EventArguments = [], tags: [Int64] = [], message: MessageID = 0,
        payload: Payload = .none, text: String = "", result: CallResult = .none
    ) {
        self.kind = kind
        self.pid = pid
        self.start = start
        self.end = end ?? start
        self.args = args
        self.tags = tags
        self.message = message
        self.payload = payload
        self.text = text
        self.result = result
    }

    /// Duration of the call in nanoseconds.
    public var duration: UInt64 { end >= start ? end - start : 0 }

    /// The event `record` describes, with a copy of `payload` (`nil` = no payload).
    public init(_ record: EventRecord, payload: UnsafeRawBufferPointer?) {
        var args = EventArguments()
        for i in 0..<record.argCount { args.append(record.argument(i)) }
        self.init(
            kind: record.kind, pid: record.pid, start: record.start, end: record.end, args: args,
            message: record.message, payload: payload.map { .bytes(Array($0)) } ?? .none,
            result: record.hasResult ? .value(record.resultValue) : .none)
    }
}

/// An event without tags or text, as plain values (no arrays, strings or other references),
/// for `TraceSink.record(_:payload:)`: building and passing one costs no allocation and no
/// reference counting, which is most of what tracing a message call costs otherwise.
public struct EventRecord: Sendable {
    // The 8-byte fields first and the small ones together at the end, so a record is 80 bytes
    // (a `TraceWriter` copies whole records).
    /// The process the event belongs to.
    public var pid: ProcessID
    /// Start time (ns since the trace's start).
    public var start: UInt64
    /// End time; equal to `start` for instant events.
    public var end: UInt64
    /// The message the event concerns; 0 = none.
    public var message: MessageID
    /// The returned value when `hasResult`.
    public var resultValue: Int64
    @usableFromInline var a0: Int64 = 0, a1: Int64 = 0, a2: Int64 = 0, a3: Int64 = 0
    /// What happened.
    public var kind: EventKind
    /// Whether the call returned a value (`resultValue`); false = `CallResult.none`.
    public var hasResult: Bool
    @usableFromInline var count: UInt8 = 0

    /// An event with no arguments yet; `result` nil = the call returns nothing.
    @inlinable @inline(__always)
    public init(
        kind: EventKind, pid: ProcessID, start: UInt64, end: UInt64? = nil, message: MessageID = 0,
        result: Int64? = nil
    ) {
        self.kind = kind
        self.pid = pid
        self.start = start
        self.end = end ?? start
        self.message = message
        self.hasResult = result != nil
        self.resultValue = result ?? 0
    }

    /// Number of positional arguments (0…4).
    @inlinable public var argCount: Int { Int(count) }

    /// Appends a positional argument (at most four).
    @inlinable @inline(__always)
    public mutating func append(_ value: Int64) {
        switch count {
        case 0: a0 = value
        case 1: a1 = value
        case 2: a2 = value
        case 3: a3 = value
        default: preconditionFailure("an EventRecord holds at most 4 arguments")
        }
        count &+= 1
    }

    /// Argument `i` (0 ≤ i < `argCount`).
    @inlinable @inline(__always)
    public func argument(_ i: Int) -> Int64 {
        switch i {
        case 0: return a0
        case 1: return a1
        case 2: return a2
        default: return a3
        }
    }
}

/// How a host call ended.
public enum CallResult: Sendable, Hashable {
    /// The call returns nothing (or the event is not a call).
    case none
    /// The call returned this value (i32 results are sign-extended).
    case value(Int64)
    /// The call trapped, with lunatic's trap reason (usually the host function's full name,
    /// e.g. `lunatic::message::write_data`).
    case trap(String)

    /// The returned value, if any.
    public var value: Int64? { if case .value(let v) = self { return v } else { return nil } }
    /// The trap reason, if the call trapped.
    public var trapReason: String? { if case .trap(let r) = self { return r } else { return nil } }
}

/// The bytes a call moved, as the writer's capture policy kept them.
public enum Payload: Sendable, Hashable {
    /// No payload.
    case none
    /// All bytes.
    case bytes([UInt8])
    /// Only the size and a 64-bit digest (XXH64, seed 0) were kept.
    case digest(size: UInt64, xxh64: UInt64)

    /// The payload's size in bytes.
    public var size: UInt64 {
        switch self {
        case .none: return 0
        case .bytes(let b): return UInt64(b.count)
        case .digest(let size, _): return size
        }
    }
}

/// Exit statuses as stored in `exit` events (`args[0]`).
public enum ExitCode: Int64, Sendable, CaseIterable {
    /// The entry function returned.
    case normal = 0
    /// The process trapped.
    case failure = 1
    /// The process was killed with `kill`.
    case killed = 2
    /// The process died because a linked process failed (R-PROC-5).
    case linkDied = 3
}

/// Why a message was dropped (`message_dropped` events, `args[0]`).
public enum DropReason: Int64, Sendable, CaseIterable {
    /// Replaced in the scratch area by `create_data` or by a receive (R-MSG-3, R-RECV-6).
    case replacedInScratch = 1
    /// Sent to a process id that does not exist or has ended (R-SEND-2).
    case receiverMissing = 2
    /// Left in the mailbox when its process ended (R-PROC-7).
    case leftInMailbox = 3
    /// Left in the scratch area when its process ended (R-PROC-7).
    case leftInScratch = 4
}

/// Resource kinds (message slots and per-process tables), as stored in events.
public enum ResourceKind: Int64, Sendable, CaseIterable, CustomStringConvertible {
    case module = 1
    case tcpStream = 2
    case tlsStream = 3
    case udpSocket = 4
    case tcpListener = 5
    case tlsListener = 6
    case dnsIterator = 7
    case config = 8
    case error = 9

    public var description: String {
        switch self {
        case .module: return "module"
        case .tcpStream: return "tcp_stream"
        case .tlsStream: return "tls_stream"
        case .udpSocket: return "udp_socket"
        case .tcpListener: return "tcp_listener"
        case .tlsListener: return "tls_listener"
        case .dnsIterator: return "dns_iterator"
        case .config: return "config"
        case .error: return "error"
        }
    }
}

/// Something that accepts events as they happen: a trace writer, or an in-memory collector.
///
/// `record` is called from many threads at once. Callers that need causal order (the runtime)
/// call it while holding the lock that orders the two events (a mailbox's, the environment's),
/// so an implementation must keep events in the order `record` was called and must never wait
/// in `record` for anything but its own short internal lock: a sink that waited there for a
/// slow disk would stop every process that needs the lock the caller holds. A sink that
/// writes in the background reports its backlog through `backPressure` instead, and the
/// runtime makes producing processes wait where they hold no lock; nothing is dropped.
public protocol TraceSink: AnyObject, Sendable {
    /// Accepts one event.
    func record(_ event: TraceEvent)

    /// Accepts one event given as plain fields plus borrowed payload bytes (`nil` = no payload;
    /// an empty buffer = a payload of 0 bytes). The bytes are valid only during the call. The
    /// runtime's hot calls record this way, which allocates nothing and counts no references;
    /// the default builds the equivalent `TraceEvent` and calls `record(_:)`.
    func record(_ event: EventRecord, payload: UnsafeRawBufferPointer?)

    /// The backlog gauge of a sink that writes in the background (nil: the sink never falls
    /// behind, the default).
    var backPressure: TraceBackPressure? { get }
}

extension TraceSink {
    /// No backlog: `record` finishes its work itself.
    public var backPressure: TraceBackPressure? { nil }

    /// Builds the equivalent `TraceEvent` (copying the payload) and records it.
    public func record(_ event: EventRecord, payload: UnsafeRawBufferPointer?) {
        record(TraceEvent(event, payload: payload))
    }
}
