import TraceFormat

extension EventArguments {
    // Building arguments from an array literal allocates an array first; these do not.

    /// One argument.
    @inline(__always) static func of(_ a: Int64) -> EventArguments {
        var e = EventArguments(); e.append(a); return e
    }
    /// Two arguments.
    @inline(__always) static func of(_ a: Int64, _ b: Int64) -> EventArguments {
        var e = EventArguments(); e.append(a); e.append(b); return e
    }
    /// Three arguments.
    @inline(__always) static func of(_ a: Int64, _ b: Int64, _ c: Int64) -> EventArguments {
        var e = EventArguments(); e.append(a); e.append(b); e.append(c); return e
    }
    /// Four arguments.
    @inline(__always) static func of(_ a: Int64, _ b: Int64, _ c: Int64, _ d: Int64) -> EventArguments {
        var e = EventArguments(); e.append(a); e.append(b); e.append(c); e.append(d); return e
    }
}

extension EventRecord {
    // The runtime's calls have at most three arguments; these build records without a loop.

    /// A record with one argument.
    @inline(__always)
    static func call(
        _ kind: EventKind, pid: UInt64, start: UInt64, end: UInt64? = nil, message: MessageID = 0,
        result: Int64? = nil, _ a: Int64
    ) -> EventRecord {
        var r = EventRecord(kind: kind, pid: pid, start: start, end: end, message: message, result: result)
        r.append(a)
        return r
    }

    /// A record with two arguments.
    @inline(__always)
    static func call(
        _ kind: EventKind, pid: UInt64, start: UInt64, end: UInt64? = nil, message: MessageID = 0,
        result: Int64? = nil, _ a: Int64, _ b: Int64
    ) -> EventRecord {
        var r = EventRecord(kind: kind, pid: pid, start: start, end: end, message: message, result: result)
        r.append(a)
        r.append(b)
        return r
    }
}
