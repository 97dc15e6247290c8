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
        recordNetworking(
            .tcpBind, start: start, args: [Int64(address.family.rawValue), Int64(address.port)],
            outcome: outcome, text: address.description)
        return outcome
    }

    /// `tcp_local_addr`: a DNS iterator holding the listener's address. Args `[listener, iter]`.
    public func tcpLocalAddress(_ listener: UInt64) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: listener)
        let l = try networkResource(
            TcpListenerResource.self, .tcpListener, listener, call: .tcpLocalAddr,
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
        let l = try networkResource(
            TcpListenerResource.self, .tcpListener, listener, call: .tcpAccept,
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
        recordNetworking(
            .tcpAccept, start: start, args: all, text: peer?.description ?? "",
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
        recordNetworking(
            .tcpConnect, start: start,
            args: [Int64(address.family.rawValue), Int64(address.port), Int64(bitPattern: timeoutMs)],
            outcome: outcome, text: address.description)
        return outcome
    }

    /// `tcp_read`: reads into `buffer` within the read timeout; success = bytes read (0 = the
    /// peer closed). Args `[stream, len, count]`, payload = bytes read.
    public func tcpRead(_ stream: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> NetworkOutcome {
        try streamReceive(TcpStreamResource.self, stream, into: buffer, call: .tcpRead, name: "tcp_read") {
            s throws(NetworkIOError) in try s.read(into: buffer)
        }
    }

    /// `tcp_peek`: like `tcpRead` but leaves the bytes in the stream (peek timeout).
    public func tcpPeek(_ stream: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> NetworkOutcome {
        try streamReceive(TcpStreamResource.self, stream, into: buffer, call: .tcpPeek, name: "tcp_peek") {
            s throws(NetworkIOError) in try s.peek(into: buffer)
        }
    }

    /// `tcp_read` into a new array of at most `maxCount` bytes: the outcome and the bytes read.
    public func tcpRead(_ stream: UInt64, maxCount: Int) throws -> (NetworkOutcome, [UInt8]) {
        try Self.readArray(maxCount: maxCount) { raw in try tcpRead(stream, into: raw) }
    }

    /// `tcp_write_vectored`: writes the gathered buffers (possibly partly) within the write
    /// timeout; success = bytes written. Args `[stream, buffer_count, count]`, payload = bytes written.
    public func tcpWriteVectored(_ stream: UInt64, _ buffers: [UnsafeRawBufferPointer]) throws -> NetworkOutcome {
        try streamWriteVectored(TcpStreamResource.self, stream, buffers, call: .tcpWriteVectored, name: "tcp_write_vectored")
    }

    /// `tcp_write_vectored` of one array.
    public func tcpWrite(_ stream: UInt64, _ bytes: [UInt8]) throws -> NetworkOutcome {
        try bytes.withUnsafeBytes { raw in try tcpWriteVectored(stream, [raw]) }
    }

    /// `tcp_flush`: TCP sends at once, so this only checks the id. Args `[stream, 0]`.
    public func tcpFlush(_ stream: UInt64) throws -> NetworkOutcome {
        try streamFlush(TcpStreamResource.self, stream, call: .tcpFlush, name: "tcp_flush")
    }

    /// `set_{read,write,peek}_timeout`: milliseconds, `UInt64.max` = none. Event `tcp_timeout`,
    /// text = the function name, args `[stream, ms]`.
    public func setTcpTimeout(_ stream: UInt64, _ which: StreamTimeouts.Which, ms: UInt64) throws {
        try setStreamTimeout(
            TcpStreamResource.self, stream, which, ms: ms, call: .tcpTimeout,
            name: "set_\(which.rawValue)_timeout")
    }

    /// `get_{read,write,peek}_timeout`: milliseconds, `UInt64.max` = none. Args `[stream]`,
    /// result = the value.
    public func tcpTimeout(_ stream: UInt64, _ which: StreamTimeouts.Which) throws -> UInt64 {
        try streamTimeout(TcpStreamResource.self, stream, which, call: .tcpTimeout, name: "get_\(which.rawValue)_timeout")
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
}
