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
