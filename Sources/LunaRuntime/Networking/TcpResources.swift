import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bound, listening TCP socket (lunatic's TCP listener resource). Closed when the last
/// reference (table entry or in-flight call) goes away.
public final class TcpListenerResource: Resource {
    public var resourceKind: ResourceKind { .tcpListener }
    let socket: SocketDescriptor
    /// The address the listener is bound to (with the port the system chose for port 0).
    public let localAddress: SocketAddress

    /// Binds a listener to `address` (port 0 = any free port) and starts listening.
    public init(binding address: SocketAddress, backlog: Int32 = 128) throws(NetworkIOError) {
        let socket = try SocketDescriptor.open(
            family: address.addressFamily, type: SystemSocket.stream, operation: "tcp_bind")
        try socket.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, operation: "tcp_bind")
        try socket.bind(to: address, operation: "tcp_bind")
        guard listen(socket.fd, backlog) == 0 else { throw .lastError("tcp_bind") }
        self.socket = socket
        self.localAddress = try socket.localAddress()
    }

    /// Waits for the next connection (until `deadline`; lunatic's `tcp_accept` has none).
    public func accept(timeoutMs: UInt64 = .max) throws(NetworkIOError) -> (TcpStreamResource, SocketAddress) {
        let (connection, peer) = try socket.accept(until: Deadline(timeoutMs: timeoutMs), operation: "tcp_accept")
        try connection.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, operation: "tcp_accept")
        return (TcpStreamResource(socket: connection, peer: peer), peer)
    }
}

/// A connected TCP stream (lunatic's TCP stream resource). Moves between processes in
/// messages; `clone_tcp_stream` puts the same object under a second id, so the socket closes
/// only when the last id (in any process or message) is dropped.
public final class TcpStreamResource: Resource {
    public var resourceKind: ResourceKind { .tcpStream }
    let socket: SocketDescriptor
    /// The remote end's address.
    public let peer: SocketAddress
    /// Read, write and peek timeouts (shared by clones, kept when the stream moves).
    public let timeouts = StreamTimeouts()

    init(socket: SocketDescriptor, peer: SocketAddress) {
        self.socket = socket
        self.peer = peer
    }

    /// Connects to `address`, giving up after `timeoutMs` (`UInt64.max` = no timeout).
    public static func connect(to address: SocketAddress, timeoutMs: UInt64) throws(NetworkIOError) -> TcpStreamResource {
        let socket = try SocketDescriptor.open(
            family: address.addressFamily, type: SystemSocket.stream, operation: "tcp_connect")
        try socket.connect(to: address, until: Deadline(timeoutMs: timeoutMs), operation: "tcp_connect")
        try socket.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, operation: "tcp_connect")
        return TcpStreamResource(socket: socket, peer: address)
    }

    /// The local end's address.
    public func localAddress() throws(NetworkIOError) -> SocketAddress { try socket.localAddress() }

    /// Reads what is available (at least one byte, or 0 at end of stream) within the read timeout.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(NetworkIOError) -> Int {
        guard buffer.count > 0 else { return 0 }
        return try socket.receive(into: buffer, until: timeouts.deadline(.read), operation: "tcp_read")
    }

    /// Like `read`, but leaves the bytes in the stream (peek timeout).
    public func peek(into buffer: UnsafeMutableRawBufferPointer) throws(NetworkIOError) -> Int {
        guard buffer.count > 0 else { return 0 }
        return try socket.receive(
            into: buffer, flags: Int32(MSG_PEEK), until: timeouts.deadline(.peek), operation: "tcp_peek")
    }

    /// Writes the gathered buffers once (possibly partly) within the write timeout; returns
    /// the bytes written.
    public func write(gathering buffers: [UnsafeRawBufferPointer]) throws(NetworkIOError) -> Int {
        let nonEmpty = buffers.filter { $0.count > 0 }
        guard !nonEmpty.isEmpty else { return 0 }
        return try socket.send(gathering: nonEmpty, until: timeouts.deadline(.write), operation: "tcp_write_vectored")
    }
}
