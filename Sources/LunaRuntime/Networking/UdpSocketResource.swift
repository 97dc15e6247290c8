import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bound UDP socket (lunatic's UDP socket resource). Moves between processes in messages;
/// `clone_udp_socket` shares it under a second id; closed when the last reference goes away.
public final class UdpSocketResource: Resource {
    public var resourceKind: ResourceKind { .udpSocket }
    let socket: SocketDescriptor
    /// The address the socket is bound to.
    public let localAddress: SocketAddress

    /// Binds a UDP socket to `address` (port 0 = any free port).
    public init(binding address: SocketAddress) throws(NetworkIOError) {
        let socket = try SocketDescriptor.open(
            family: address.addressFamily, type: SystemSocket.datagram, operation: "udp_bind")
        try socket.bind(to: address, operation: "udp_bind")
        self.socket = socket
        self.localAddress = try socket.localAddress()
    }

    /// Sets the default peer for `send`/`receive` and filters `receiveFrom` to it.
    public func connect(to address: SocketAddress, timeoutMs: UInt64) throws(NetworkIOError) {
        try socket.connect(to: address, until: Deadline(timeoutMs: timeoutMs), operation: "udp_connect")
    }

    /// Sends one datagram to `address`; returns the bytes sent.
    public func send(_ buffer: UnsafeRawBufferPointer, to address: SocketAddress) throws(NetworkIOError) -> Int {
        try socket.sendDatagram(buffer, to: address, until: .never, operation: "udp_send_to")
    }

    /// Sends one datagram to the connected peer.
    public func send(_ buffer: UnsafeRawBufferPointer) throws(NetworkIOError) -> Int {
        try socket.sendDatagram(buffer, to: nil, until: .never, operation: "udp_send")
    }

    /// Receives one datagram (waiting at most `timeoutMs`; lunatic's calls wait forever);
    /// returns its size (truncated to the buffer) and sender.
    public func receiveFrom(
        into buffer: UnsafeMutableRawBufferPointer, timeoutMs: UInt64 = .max
    )
        throws(NetworkIOError) -> (Int, SocketAddress)
    {
        try socket.receiveDatagram(into: buffer, until: Deadline(timeoutMs: timeoutMs), operation: "udp_receive_from")
    }

    /// Receives one datagram from the connected peer.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: UInt64 = .max) throws(NetworkIOError) -> Int {
        try socket.receive(into: buffer, until: Deadline(timeoutMs: timeoutMs), operation: "udp_receive")
    }

    /// Whether broadcast sends are allowed.
    public func broadcast() throws(NetworkIOError) -> Bool {
        try socket.option(level: SOL_SOCKET, name: SO_BROADCAST, operation: "get_udp_socket_broadcast") != 0
    }

    /// Allows or forbids broadcast sends.
    public func setBroadcast(_ on: Bool) throws(NetworkIOError) {
        try socket.setOption(level: SOL_SOCKET, name: SO_BROADCAST, value: on ? 1 : 0, operation: "set_udp_socket_broadcast")
    }

    private var ttlOption: (Int32, Int32) {
        localAddress.family == .v4 ? (Int32(IPPROTO_IP), IP_TTL) : (Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS)
    }

    /// The time-to-live of sent packets.
    public func ttl() throws(NetworkIOError) -> UInt32 {
        UInt32(truncatingIfNeeded: try socket.option(level: ttlOption.0, name: ttlOption.1, operation: "get_udp_socket_ttl"))
    }

    /// Sets the time-to-live of sent packets.
    public func setTTL(_ ttl: UInt32) throws(NetworkIOError) {
        try socket.setOption(
            level: ttlOption.0, name: ttlOption.1, value: Int32(truncatingIfNeeded: ttl), operation: "set_udp_socket_ttl")
    }
}
