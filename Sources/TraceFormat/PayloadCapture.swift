/// Which payload bytes a `TraceWriter` keeps.
public enum PayloadCapture: Sendable, Equatable {
    /// Keep every byte (the default).
    case full
    /// Keep only the size and the XXH64 digest of every payload.
    case digest
    /// Keep bytes of payloads up to this many bytes; larger ones as size + digest.
    case digestAbove(Int)

    /// The payload as this policy stores it.
    public func apply(to payload: Payload) -> Payload {
        guard case .bytes(let bytes) = payload else { return payload }
        switch self {
        case .full:
            if bytes.count <= TraceLayout.maxCapturedPayloadBytes { return payload }
        case .digest:
            break
        case .digestAbove(let limit):
            if bytes.count <= limit && bytes.count <= TraceLayout.maxCapturedPayloadBytes { return payload }
        }
        return .digest(size: UInt64(bytes.count), xxh64: XXH64.hash(bytes))
    }
}
