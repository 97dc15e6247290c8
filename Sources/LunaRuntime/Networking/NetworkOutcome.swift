import TraceFormat

/// How a fallible `lunatic::networking` call ended, exactly as lunatic reports it to a guest:
/// a status (0, 1 or 9027) and the u64 written to the call's out-pointer.
public enum NetworkOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Status 0: the value is a new resource id, or a byte count.
    case success(UInt64)
    /// Status 1: the value is the id of a new `lunatic::error` resource describing the failure.
    case failure(errorID: UInt64)
    /// Status 9027: the call's timeout expired; nothing is written.
    case timedOut

    /// The status the host function returns: 0, 1 or 9027.
    public var code: UInt32 {
        switch self {
        case .success: return 0
        case .failure: return 1
        case .timedOut: return UInt32(ResultCode.timeout)
        }
    }

    /// The value for the out-pointer: id or count on success, error id on failure, 0 on timeout.
    public var value: UInt64 {
        switch self {
        case .success(let v): return v
        case .failure(let e): return e
        case .timedOut: return 0
        }
    }

    /// The success value, if the call succeeded.
    public var successValue: UInt64? {
        if case .success(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .success(let v): return "success(\(v))"
        case .failure(let e): return "failure(error \(e))"
        case .timedOut: return "timedOut"
        }
    }
}
