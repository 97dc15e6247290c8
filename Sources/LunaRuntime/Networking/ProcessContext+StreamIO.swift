import TraceFormat

/// A connected byte stream whose reads, writes, flushes and timeouts are traced the same way
/// (TCP and TLS streams): one place for the shared call shape, so the two cannot drift apart.
protocol ByteStreamResource: Resource {
    /// The table that holds streams of this type.
    static var streamKind: ResourceKind { get }
    /// Read, write and peek timeouts.
    var timeouts: StreamTimeouts { get }
    /// Writes the gathered buffers within the write timeout; returns the bytes written.
    func write(gathering buffers: [UnsafeRawBufferPointer]) throws(NetworkIOError) -> Int
}

extension TcpStreamResource: ByteStreamResource {
    static var streamKind: ResourceKind { .tcpStream }
}

extension TlsStreamResource: ByteStreamResource {
    static var streamKind: ResourceKind { .tlsStream }
}

/// The stream calls of `lunatic::networking`, each for any `ByteStreamResource`; the public
/// TCP and TLS functions pass their own event kind and call name. Unknown ids trap with the
/// call's name.
extension ProcessContext {
    /// Stream `id` of type `S`, or a recorded trap for call `kind`/`name`.
    private func byteStream<S: ByteStreamResource>(
        _ type: S.Type, _ id: UInt64, _ kind: EventKind, _ name: String, _ args: EventArguments, _ start: UInt64
    ) throws(LunaTrap) -> S {
        try networkResource(S.self, S.streamKind, id, call: kind, name: name, args: args, start: start)
    }

    /// A read or peek into `buffer` by `receive`; success = bytes read.
    /// Args `[stream, len, count]`, payload = bytes read.
    func streamReceive<S: ByteStreamResource>(
        _ type: S.Type, _ stream: UInt64, into buffer: UnsafeMutableRawBufferPointer, call kind: EventKind, name: String,
        _ receive: (S) throws(NetworkIOError) -> Int
    ) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: stream, UInt64(buffer.count))
        let s = try byteStream(S.self, stream, kind, name, args, start)
        let outcome = try networkOutcome { () throws(NetworkIOError) in UInt64(try receive(s)) }
        recordNetworking(
            kind, start: start, args: args, outcome: outcome,
            payload: Self.payload(UnsafeRawBufferPointer(buffer), count: Int(outcome.successValue ?? 0)))
        return outcome
    }

    /// `read` into a new array of at most `maxCount` bytes: the outcome and the bytes read.
    static func readArray(
        maxCount: Int, _ read: (UnsafeMutableRawBufferPointer) throws -> NetworkOutcome
    ) throws -> (NetworkOutcome, [UInt8]) {
        var bytes = [UInt8](repeating: 0, count: maxCount)
        let outcome = try bytes.withUnsafeMutableBytes { raw in try read(raw) }
        bytes.removeLast(maxCount - Int(outcome.successValue ?? 0))
        return (outcome, bytes)
    }

    /// A gathered write; success = bytes written. Args `[stream, buffer_count, count]`,
    /// payload = bytes written.
    func streamWriteVectored<S: ByteStreamResource>(
        _ type: S.Type, _ stream: UInt64, _ buffers: [UnsafeRawBufferPointer], call kind: EventKind, name: String
    ) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: stream, UInt64(buffers.count))
        let s = try byteStream(S.self, stream, kind, name, args, start)
        let outcome = try networkOutcome { () throws(NetworkIOError) in UInt64(try s.write(gathering: buffers)) }
        recordNetworking(
            kind, start: start, args: args, outcome: outcome,
            payload: Self.gatheredPayload(buffers, count: Int(outcome.successValue ?? 0)))
        return outcome
    }

    /// A flush: writes complete before the write call returns, so this only checks the id.
    /// Args `[stream, 0]`.
    func streamFlush<S: ByteStreamResource>(
        _ type: S.Type, _ stream: UInt64, call kind: EventKind, name: String
    ) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: stream)
        _ = try byteStream(S.self, stream, kind, name, args, start)
        recordNetworking(kind, start: start, args: args, outcome: .success(0))
        return .success(0)
    }

    /// Sets a timeout (milliseconds, `UInt64.max` = none). Text = `name`, args `[stream, ms]`.
    func setStreamTimeout<S: ByteStreamResource>(
        _ type: S.Type, _ stream: UInt64, _ which: StreamTimeouts.Which, ms: UInt64, call kind: EventKind, name: String
    ) throws {
        let start = now()
        let args = EventArguments(unsigned: stream, ms)
        try byteStream(S.self, stream, kind, name, args, start).timeouts.set(which, ms)
        recordNetworking(kind, start: start, args: args, text: name)
    }

    /// A timeout (milliseconds, `UInt64.max` = none). Text = `name`, args `[stream]`,
    /// result = the value.
    func streamTimeout<S: ByteStreamResource>(
        _ type: S.Type, _ stream: UInt64, _ which: StreamTimeouts.Which, call kind: EventKind, name: String
    ) throws -> UInt64 {
        let start = now()
        let args = EventArguments(unsigned: stream)
        let ms = try byteStream(S.self, stream, kind, name, args, start).timeouts.get(which)
        recordNetworking(kind, start: start, args: args, text: name, result: .value(Int64(bitPattern: ms)))
        return ms
    }

    /// The first `count` bytes of the gathered buffers, as a trace payload.
    static func gatheredPayload(_ buffers: [UnsafeRawBufferPointer], count: Int) -> Payload {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for b in buffers where bytes.count < count {
            bytes.append(contentsOf: b.prefix(count - bytes.count))
        }
        return .bytes(bytes)
    }
}
