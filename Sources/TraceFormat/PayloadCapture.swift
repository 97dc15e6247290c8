/// Which payload bytes a `TraceWriter` keeps.
public enum PayloadCapture: Sendable, Equatable {
    /// Keep every byte (the default).
    case full
    /// Keep only the size and the XXH64 digest of every payload.
    case digest
    /// Keep bytes of payloads up to this many bytes; larger ones as size + digest.
    case digestAbove(Int)

    /// Whether a payload of `size` bytes is stored as size + digest under this policy
    /// (payloads over `TraceLayout.maxCapturedPayloadBytes` always are).
    @inline(__always)
    public func digests(size: Int) -> Bool {
        if size > TraceLayout.maxCapturedPayloadBytes { return true }
        switch self {
        case .full: return false
        case .digest: return true
        case .digestAbove(let limit): return size > limit
        }
    }

    /// The payload as this policy stores it.
    public func apply(to payload: Payload) -> Payload {
        guard case .bytes(let bytes) = payload, digests(size: bytes.count) else { return payload }
        return .digest(size: UInt64(bytes.count), xxh64: XXH64.hash(bytes))
    }
}
