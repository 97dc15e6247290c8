import TraceFormat

/// `lunatic::networking` UDP calls on a process. Unknown ids throw `LunaTrap`. The receive
/// calls take an optional timeout for native callers; lunatic's guest calls wait forever.
extension ProcessContext {
    private func udpSocket(
        _ id: UInt64, _ kind: EventKind, _ name: String, _ args: EventArguments,
        _ start: UInt64
    ) throws(LunaTrap) -> UdpSocketResource {
        try networkResource(UdpSocketResource.self, .udpSocket, id, call: kind, name: name, args: args, start: start)
    }

    /// `udp_bind`: a socket bound to `address` (port 0 = any). Args `[addr_type, port, id]`.
    public func udpBind(_ address: SocketAddress) throws -> NetworkOutcome {
        let start = now()
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            insert(try UdpSocketResource(binding: address))
        }
        recordNetworking(
            .udpBind, start: start, args: [Int64(address.family.rawValue), Int64(address.port)],
            outcome: outcome, text: address.description)
        return outcome
    }

    /// `udp_local_addr`: a DNS iterator holding the socket's address. Args `[socket, iter]`.
    public func udpLocalAddress(_ socket: UInt64) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: socket)
        let s = try udpSocket(socket, .udpLocalAddr, "udp_local_addr", args, start)
        let outcome = NetworkOutcome.success(insert(DnsIteratorResource([s.localAddress])))
        recordNetworking(.udpLocalAddr, start: start, args: args, outcome: outcome, text: s.localAddress.description)
        return outcome
    }

    /// `udp_connect`: fixes the peer of `udpSend`/`udpReceive`. Success value 0.
    /// Args `[socket, addr_type, port, timeout, 0_or_error]`.
    public func udpConnect(_ socket: UInt64, to address: SocketAddress, timeoutMs: UInt64 = .max) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: socket, UInt64(address.family.rawValue), UInt64(address.port), timeoutMs)
        let s = try udpSocket(socket, .udpConnect, "udp_connect", args, start)
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            try s.connect(to: address, timeoutMs: timeoutMs)
            return 0
        }
        recordNetworking(.udpConnect, start: start, args: args, outcome: outcome, text: address.description)
        return outcome
    }

    /// `udp_send_to`: one datagram to `address`; success = bytes sent.
    /// Args `[socket, len, addr_type, port, count]`, text = address, payload = the datagram.
    public func udpSendTo(_ socket: UInt64, _ buffer: UnsafeRawBufferPointer, to address: SocketAddress) throws -> NetworkOutcome
    {
        let start = now()
        let args = EventArguments(unsigned: socket, UInt64(buffer.count), UInt64(address.family.rawValue), UInt64(address.port))
        let s = try udpSocket(socket, .udpSendTo, "udp_send_to", args, start)
        let outcome = try networkOutcome { () throws(NetworkIOError) in UInt64(try s.send(buffer, to: address)) }
        recordNetworking(
            .udpSendTo, start: start, args: args, outcome: outcome, text: address.description,
            payload: Self.payload(buffer, count: Int(outcome.successValue ?? 0)))
        return outcome
    }

    /// `udp_send_to` of one array.
    public func udpSendTo(_ socket: UInt64, _ bytes: [UInt8], to address: SocketAddress) throws -> NetworkOutcome {
        try bytes.withUnsafeBytes { raw in try udpSendTo(socket, raw, to: address) }
    }

    /// `udp_send`: one datagram to the connected peer. Args `[socket, len, count]`.
    public func udpSend(_ socket: UInt64, _ buffer: UnsafeRawBufferPointer) throws -> NetworkOutcome {
        let start = now()
        let args = EventArguments(unsigned: socket, UInt64(buffer.count))
        let s = try udpSocket(socket, .udpSend, "udp_send", args, start)
        let outcome = try networkOutcome { () throws(NetworkIOError) in UInt64(try s.send(buffer)) }
        recordNetworking(
            .udpSend, start: start, args: args, outcome: outcome,
            payload: Self.payload(buffer, count: Int(outcome.successValue ?? 0)))
        return outcome
    }

    /// `udp_receive_from`: one datagram into `buffer`; success = its size; the sender comes
    /// back as a DNS iterator id (0 on failure). Args `[socket, len, count, sender_iter]`,
    /// text = sender, payload = the datagram.
    public func udpReceiveFrom(
        _ socket: UInt64, into buffer: UnsafeMutableRawBufferPointer, timeoutMs: UInt64 = .max
    )
        throws -> (NetworkOutcome, senderIterator: UInt64)
    {
        let start = now()
        let args = EventArguments(unsigned: socket, UInt64(buffer.count))
        let s = try udpSocket(socket, .udpReceiveFrom, "udp_receive_from", args, start)
        var sender: SocketAddress?
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            let (n, from) = try s.receiveFrom(into: buffer, timeoutMs: timeoutMs)
            sender = from
            return UInt64(n)
        }
        let senderIterator = sender.map { insert(DnsIteratorResource([$0])) } ?? 0
        var all = args
        all.append(Int64(bitPattern: outcome.value))
        all.append(Int64(bitPattern: senderIterator))
        recordNetworking(
            .udpReceiveFrom, start: start, args: all, text: sender?.description ?? "",
            payload: Self.payload(UnsafeRawBufferPointer(buffer), count: Int(outcome.successValue ?? 0)),
            result: .value(Int64(outcome.code)))
        return (outcome, senderIterator)
    }

    /// `udp_receive`: one datagram from the connected peer. Args `[socket, len, count]`.
    public func udpReceive(
        _ socket: UInt64, into buffer: UnsafeMutableRawBufferPointer, timeoutMs: UInt64 = .max
    )
        throws -> NetworkOutcome
    {
        let start = now()
        let args = EventArguments(unsigned: socket, UInt64(buffer.count))
        let s = try udpSocket(socket, .udpReceive, "udp_receive", args, start)
        let outcome = try networkOutcome { () throws(NetworkIOError) in UInt64(try s.receive(into: buffer, timeoutMs: timeoutMs))
        }
        recordNetworking(
            .udpReceive, start: start, args: args, outcome: outcome,
            payload: Self.payload(UnsafeRawBufferPointer(buffer), count: Int(outcome.successValue ?? 0)))
        return outcome
    }

    /// `set_udp_socket_broadcast` / `set_udp_socket_ttl`; traps if the system refuses (as lunatic).
    /// Event `udp_option`, text = the function name, args `[socket, value]`.
    public func setUdpOption(_ socket: UInt64, _ option: UdpOption, value: UInt32) throws {
        let start = now()
        let name = "set_udp_socket_\(option.rawValue)"
        let args = EventArguments(unsigned: socket, UInt64(value))
        let s = try udpSocket(socket, .udpOption, name, args, start)
        do {
            switch option {
            case .broadcast: try s.setBroadcast(value > 0)
            case .ttl: try s.setTTL(value)
            }
        } catch {
            throw trap(.udpOption, args, Self.networkingTrapReason(name), start: start)
        }
        recordNetworking(.udpOption, start: start, args: args, text: name)
    }

    /// `get_udp_socket_broadcast` (0/1) / `get_udp_socket_ttl`. Args `[socket]`, result = value.
    public func udpOption(_ socket: UInt64, _ option: UdpOption) throws -> UInt32 {
        let start = now()
        let name = "get_udp_socket_\(option.rawValue)"
        let args = EventArguments(unsigned: socket)
        let s = try udpSocket(socket, .udpOption, name, args, start)
        let value: UInt32
        do {
            switch option {
            case .broadcast: value = try s.broadcast() ? 1 : 0
            case .ttl: value = try s.ttl()
            }
        } catch {
            throw trap(.udpOption, args, Self.networkingTrapReason(name), start: start)
        }
        recordNetworking(.udpOption, start: start, args: args, text: name, result: .value(Int64(value)))
        return value
    }

    /// `drop_udp_socket`.
    public func dropUdpSocket(_ socket: UInt64) throws {
        try dropNetworkResource(.udpSocket, socket, call: .dropUdpSocket, name: "drop_udp_socket")
    }

    /// `clone_udp_socket`: the same socket under a new id.
    public func cloneUdpSocket(_ socket: UInt64) throws -> UInt64 {
        try cloneNetworkResource(.udpSocket, socket, call: .cloneUdpSocket, name: "clone_udp_socket")
    }
}

/// The UDP socket options lunatic exposes.
public enum UdpOption: String, Sendable {
    case broadcast, ttl
}
