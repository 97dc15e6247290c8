import TraceFormat

/// `lunatic::networking` TCP calls on a process. Ids refer to the process's own tables;
/// unknown ids throw `LunaTrap` (as lunatic traps). Blocking calls block the calling thread.
extension ProcessContext {
    /// `tcp_bind`: a listener on `address` (port 0 = any). Event args `[addr_type, port, id]`,
    /// text = address.
    public func tcpBind(_ address: SocketAddress) throws -> NetworkOutcome {
        let start = now()
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            insert(try TcpListenerResource(binding: address))
        }
        recordNetworking(.tcpBind, start: start, args: [Int64(address.family.rawValue), Int64(address.port)],
                         outcome: outcome, text: address.description)
        return outcome
    }

    /// `tcp_local_addr`: a DNS iterator holding the listener's address. Args `[listener, iter]`.
    public func tcpLocalAddress(_ listener: UInt64) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: listener)
        let l = try networkResource(TcpListenerResource.self, .tcpListener, listener, call: .tcpLocalAddr,
                                    name: "tcp_local_addr", args: args, start: start)
        let outcome = NetworkOutcome.success(insert(DnsIteratorResource([l.localAddress])))
        recordNetworking(.tcpLocalAddr, start: start, args: args, outcome: outcome, text: l.localAddress.description)
        return outcome
    }

    /// `tcp_accept`: waits for a connection; returns the new stream's id and a DNS iterator id
    /// holding the peer address (0 on failure). Args `[listener, stream, peer_iter]`, text = peer.
    public func tcpAccept(_ listener: UInt64) throws -> (stream: NetworkOutcome, peerIterator: UInt64) {
        let start = now()
        let args = EventArguments(unsigned: listener)
        let l = try networkResource(TcpListenerResource.self, .tcpListener, listener, call: .tcpAccept,
                                    name: "tcp_accept", args: args, start: start)
        var peer: SocketAddress?
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            let (stream, address) = try l.accept()
            peer = address
            return insert(stream)
        }
        let peerIterator = peer.map { insert(DnsIteratorResource([$0])) } ?? 0
        var all = args
        all.append(Int64(bitPattern: outcome.value))
        all.append(Int64(bitPattern: peerIterator))
        recordNetworking(.tcpAccept, start: start, args: all, text: peer?.description ?? "",
                         result: .value(Int64(outcome.code)))
        return (outcome, peerIterator)
    }

    /// `tcp_connect`: a stream connected to `address` within `timeoutMs` (`UInt64.max` = none).
    /// Args `[addr_type, port, timeout, id]`, text = address.
    public func tcpConnect(_ address: SocketAddress, timeoutMs: UInt64 = .max) throws -> NetworkOutcome {
        let start = now()
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            insert(try TcpStreamResource.connect(to: address, timeoutMs: timeoutMs))
        }
        recordNetworking(.tcpConnect, start: start,
                         args: [Int64(address.family.rawValue), Int64(address.port), Int64(bitPattern: timeoutMs)],
                         outcome: outcome, text: address.description)
        return outcome
    }

    private func tcpStream(_ id: UInt64, _ kind: EventKind, _ name: String, _ args: EventArguments,
                           _ start: UInt64) throws(LunaTrap) -> TcpStreamResource {
        try networkResource(TcpStreamResource.self, .tcpStream, id, call: kind, name: name, args: args, start: start)
    }

    /// `tcp_read`: reads into `buffer` within the read timeout; success = bytes read (0 = the
    /// peer closed). Args `[stream, len, count]`, payload = bytes read.
    public func tcpRead(_ stream: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> NetworkOutcome {
        try tcpReceive(stream, into: buffer, peek: false)
    }

    /// `tcp_peek`: like `tcpRead` but leaves the bytes in the stream (peek timeout).
    public func tcpPeek(_ stream: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> NetworkOutcome {
        try tcpReceive(stream, into: buffer, peek: true)
    }

    private func tcpReceive(_ id: UInt64, into buffer: UnsafeMutableRawBufferPointer, peek: Bool) throws -> NetworkOutcome {
        let start = now()
        let (kind, name) = peek ? (EventKind.tcpPeek, "tcp_peek") : (EventKind.tcpRead, "tcp_read")
        let args = EventArguments(unsigned: id, UInt64(buffer.count))
        let s = try tcpStream(id, kind, name, args, start)
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            UInt64(peek ? try s.peek(into: buffer) : try s.read(into: buffer))
        }
        recordNetworking(kind, start: start, args: args, outcome: outcome,
                         payload: Self.payload(UnsafeRawBufferPointer(buffer), count: Int(outcome.successValue ?? 0)))
        return outcome
    }

    /// `tcp_read` into a new array of at most `maxCount` bytes: the outcome and the bytes read.
    public func tcpRead(_ stream: UInt64, maxCount: Int) throws -> (NetworkOutcome, [UInt8]) {
        var bytes = [UInt8](repeating: 0, count: maxCount)
        let outcome = try bytes.withUnsafeMutableBytes { raw in try tcpRead(stream, into: raw) }
        bytes.removeLast(maxCount - Int(outcome.successValue ?? 0))
        return (outcome, bytes)
    }

    /// `tcp_write_vectored`: writes the gathered buffers (possibly partly) within the write
    /// timeout; success = bytes written. Args `[stream, buffer_count, count]`, payload = bytes written.
    public func tcpWriteVectored(_ stream: UInt64, _ buffers: [UnsafeRawBufferPointer]) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: stream, UInt64(buffers.count))
        let s = try tcpStream(stream, .tcpWriteVectored, "tcp_write_vectored", args, start)
        let outcome = try networkOutcome { () throws(NetworkIOError) in UInt64(try s.write(gathering: buffers)) }
        recordNetworking(.tcpWriteVectored, start: start, args: args, outcome: outcome,
                         payload: Self.gatheredPayload(buffers, count: Int(outcome.successValue ?? 0)))
        return outcome
    }

    /// `tcp_write_vectored` of one array.
    public func tcpWrite(_ stream: UInt64, _ bytes: [UInt8]) throws -> NetworkOutcome {
        try bytes.withUnsafeBytes { raw in try tcpWriteVectored(stream, [raw]) }
    }

    /// `tcp_flush`: TCP sends at once, so this only checks the id. Args `[stream, 0]`.
    public func tcpFlush(_ stream: UInt64) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: stream)
        _ = try tcpStream(stream, .tcpFlush, "tcp_flush", args, start)
        recordNetworking(.tcpFlush, start: start, args: args, outcome: .success(0))
        return .success(0)
    }

    /// `set_{read,write,peek}_timeout`: milliseconds, `UInt64.max` = none. Event `tcp_timeout`,
    /// text = the function name, args `[stream, ms]`.
    public func setTcpTimeout(_ stream: UInt64, _ which: StreamTimeouts.Which, ms: UInt64) throws {
        let start = now()
        let name = "set_\(which.rawValue)_timeout"
        let args = EventArguments(unsigned: stream, ms)
        try tcpStream(stream, .tcpTimeout, name, args, start).timeouts.set(which, ms)
        recordNetworking(.tcpTimeout, start: start, args: args, text: name)
    }

    /// `get_{read,write,peek}_timeout`: milliseconds, `UInt64.max` = none. Args `[stream]`,
    /// result = the value.
    public func tcpTimeout(_ stream: UInt64, _ which: StreamTimeouts.Which) throws -> UInt64 {
        let start = now()
        let name = "get_\(which.rawValue)_timeout"
        let args = EventArguments(unsigned: stream)
        let ms = try tcpStream(stream, .tcpTimeout, name, args, start).timeouts.get(which)
        recordNetworking(.tcpTimeout, start: start, args: args, text: name, result: .value(Int64(bitPattern: ms)))
        return ms
    }

    /// `drop_tcp_stream`: removes the id; the socket closes with its last reference.
    public func dropTcpStream(_ stream: UInt64) throws {
        try dropNetworkResource(.tcpStream, stream, call: .dropTcpStream, name: "drop_tcp_stream")
    }

    /// `drop_tcp_listener`.
    public func dropTcpListener(_ listener: UInt64) throws {
        try dropNetworkResource(.tcpListener, listener, call: .dropTcpListener, name: "drop_tcp_listener")
    }

    /// `clone_tcp_stream`: the same stream under a new id. Args `[stream, new]`.
    public func cloneTcpStream(_ stream: UInt64) throws -> UInt64 {
        try cloneNetworkResource(.tcpStream, stream, call: .cloneTcpStream, name: "clone_tcp_stream")
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
