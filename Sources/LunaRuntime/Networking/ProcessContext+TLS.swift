import TraceFormat

/// `lunatic::networking` TLS calls on a process. Unknown ids throw `LunaTrap`.
extension ProcessContext {
    /// `tls_bind`: a TLS listener on `address` presenting the PEM certificate chain and key.
    /// A certificate or key that does not load is an error (status 1), not a trap.
    /// Args `[addr_type, port, cert_len, key_len, id]`, text = address.
    public func tlsBind(_ address: SocketAddress, certificatePEM: [UInt8], keyPEM: [UInt8]) throws -> NetworkOutcome {
        let start = now()
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            insert(try TlsListenerResource(binding: address, certificatePEM: certificatePEM, keyPEM: keyPEM))
        }
        recordNetworking(
            .tlsBind, start: start,
            args: EventArguments(
                unsigned: UInt64(address.family.rawValue), UInt64(address.port),
                UInt64(certificatePEM.count), UInt64(keyPEM.count)),
            outcome: outcome, text: address.description)
        return outcome
    }

    /// `tls_local_addr`: a DNS iterator holding the listener's address. Args `[listener, iter]`.
    public func tlsLocalAddress(_ listener: UInt64) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: listener)
        let l = try networkResource(
            TlsListenerResource.self, .tlsListener, listener, call: .tlsLocalAddr,
            name: "tls_local_addr", args: args, start: start)
        let outcome = NetworkOutcome.success(insert(DnsIteratorResource([l.localAddress])))
        recordNetworking(.tlsLocalAddr, start: start, args: args, outcome: outcome, text: l.localAddress.description)
        return outcome
    }

    /// `tls_accept`: waits for a connection and completes the server handshake; a failed
    /// handshake is an error (status 1). Args `[listener, stream, peer_iter]`, text = peer.
    public func tlsAccept(_ listener: UInt64) throws -> (stream: NetworkOutcome, peerIterator: UInt64) {
        let start = now()
        let args = EventArguments(unsigned: listener)
        let l = try networkResource(
            TlsListenerResource.self, .tlsListener, listener, call: .tlsAccept,
            name: "tls_accept", args: args, start: start)
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
            .tlsAccept, start: start, args: all, text: peer?.description ?? "",
            result: .value(Int64(outcome.code)))
        return (outcome, peerIterator)
    }

    /// `tls_connect`: connects to `host:port` and completes a verified handshake within
    /// `timeoutMs`. The server must present a certificate for `host` chaining to one of
    /// `rootCertificatePEMs` (system roots when empty). Args `[port, timeout, root_count, id]`,
    /// text = host.
    public func tlsConnect(
        host: String, port: UInt16, rootCertificatePEMs: [[UInt8]] = [],
        timeoutMs: UInt64 = .max
    ) throws -> NetworkOutcome {
        let start = now()
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            insert(try TlsStreamResource.connect(host: host, port: port, rootPEMs: rootCertificatePEMs, timeoutMs: timeoutMs))
        }
        recordNetworking(
            .tlsConnect, start: start,
            args: EventArguments(unsigned: UInt64(port), timeoutMs, UInt64(rootCertificatePEMs.count)),
            outcome: outcome, text: host)
        return outcome
    }

    /// `tls_read`: decrypted bytes into `buffer` within the read timeout; success = bytes read
    /// (0 = closed). Args `[stream, len, count]`, payload = the plaintext read.
    public func tlsRead(_ stream: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> NetworkOutcome {
        try streamReceive(TlsStreamResource.self, stream, into: buffer, call: .tlsRead, name: "tls_read") {
            s throws(NetworkIOError) in try s.read(into: buffer)
        }
    }

    /// `tls_read` into a new array of at most `maxCount` bytes.
    public func tlsRead(_ stream: UInt64, maxCount: Int) throws -> (NetworkOutcome, [UInt8]) {
        try Self.readArray(maxCount: maxCount) { raw in try tlsRead(stream, into: raw) }
    }

    /// `tls_write_vectored`: encrypts and sends all gathered bytes within the write timeout.
    /// Args `[stream, buffer_count, count]`, payload = the plaintext written.
    public func tlsWriteVectored(_ stream: UInt64, _ buffers: [UnsafeRawBufferPointer]) throws -> NetworkOutcome {
        try streamWriteVectored(TlsStreamResource.self, stream, buffers, call: .tlsWriteVectored, name: "tls_write_vectored")
    }

    /// `tls_write_vectored` of one array.
    public func tlsWrite(_ stream: UInt64, _ bytes: [UInt8]) throws -> NetworkOutcome {
        try bytes.withUnsafeBytes { raw in try tlsWriteVectored(stream, [raw]) }
    }

    /// `tls_flush`: writes complete before `tls_write_vectored` returns, so this only checks the id.
    public func tlsFlush(_ stream: UInt64) throws -> NetworkOutcome {
        try streamFlush(TlsStreamResource.self, stream, call: .tlsFlush, name: "tls_flush")
    }

    /// `set_tls_{read,write,peek}_timeout`. Event `tls_timeout`, text = function name.
    public func setTlsTimeout(_ stream: UInt64, _ which: StreamTimeouts.Which, ms: UInt64) throws {
        try setStreamTimeout(
            TlsStreamResource.self, stream, which, ms: ms, call: .tlsTimeout,
            name: "set_tls_\(which.rawValue)_timeout")
    }

    /// `get_tls_{read,write,peek}_timeout`; `UInt64.max` = none.
    public func tlsTimeout(_ stream: UInt64, _ which: StreamTimeouts.Which) throws -> UInt64 {
        try streamTimeout(TlsStreamResource.self, stream, which, call: .tlsTimeout, name: "get_tls_\(which.rawValue)_timeout")
    }

    /// `drop_tls_stream`: removes the id; the session ends with its last reference.
    public func dropTlsStream(_ stream: UInt64) throws {
        try dropNetworkResource(.tlsStream, stream, call: .dropTlsStream, name: "drop_tls_stream")
    }

    /// `drop_tls_listener`.
    public func dropTlsListener(_ listener: UInt64) throws {
        try dropNetworkResource(.tlsListener, listener, call: .dropTlsListener, name: "drop_tls_listener")
    }

    /// `clone_tls_stream`: the same session under a new id.
    public func cloneTlsStream(_ stream: UInt64) throws -> UInt64 {
        try cloneNetworkResource(.tlsStream, stream, call: .cloneTlsStream, name: "clone_tls_stream")
    }
}
