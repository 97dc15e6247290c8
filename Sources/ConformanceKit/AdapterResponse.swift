import TraceFormat

/// One answer of an adapter to a request (docs/ADAPTER_PROTOCOL.md, section 2).
public enum AdapterResponse: Sendable, Equatable {
    /// The call returned `value`.
    case result(JSONValue)
    /// The call trapped with `reason`; `scratch` describes the scratch area left behind.
    case trap(reason: String, scratch: JSONValue)
    /// The call never returned because the process ended with this status.
    case ended(String)
    /// The adapter could not perform the request.
    case error(String)

    /// Decodes a response object; nil when it has none of the four forms.
    init?(_ object: JSONValue) {
        if let r = object["result"] {
            self = .result(r)
        } else if let t = object["trap"] {
            self = .trap(reason: t.string ?? t.serialized, scratch: object["scratch"] ?? .null)
        } else if let e = object["ended"] {
            self = .ended(e.string ?? e.serialized)
        } else if let e = object["error"] {
            self = .error(e.string ?? e.serialized)
        } else {
            return nil
        }
    }

    /// A short rendering for reports.
    public var summary: String {
        switch self {
        case .result(let v): return v.serialized
        case .trap(let reason, _): return "trap (\(reason))"
        case .ended(let status): return "no return: process ended (\(status))"
        case .error(let text): return "adapter error: \(text)"
        }
    }
}
