import COpenSSL
import Synchronization
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listener that wraps every accepted connection in a server-side TLS session with the
/// certificate and key given at bind time (lunatic's TLS listener resource).
public final class TlsListenerResource: Resource {
    public var resourceKind: ResourceKind { .tlsListener }
    let listener: TcpListenerResource
    let context: TlsContext
    /// The address the listener is bound to.
    public var localAddress: SocketAddress { listener.localAddress }

    /// Binds to `address`, presenting the PEM certificate chain and private key.
    public init(binding address: SocketAddress, certificatePEM: [UInt8], keyPEM: [UInt8]) throws(NetworkIOError) {
        context = try TlsContext.server(certificatePEM: certificatePEM, keyPEM: keyPEM)
        listener = try TcpListenerResource(binding: address)
    }

    /// Accepts the next connection and completes the TLS handshake on it (both within
    /// `timeoutMs`; lunatic's `tls_accept` has none).
    public func accept(timeoutMs: UInt64 = .max) throws(NetworkIOError) -> (TlsStreamResource, SocketAddress) {
        let deadline = Deadline(timeoutMs: timeoutMs)
        let (tcp, peer) = try listener.accept(timeoutMs: timeoutMs)
        let stream = try TlsStreamResource(socket: tcp.socket, peer: peer, context: context, serverName: nil)
        try stream.handshake(accepting: true, until: deadline)
        return (stream, peer)
    }
}

/// A TLS session over a connected TCP socket (lunatic's TLS stream resource). Moves between
/// processes in messages; clones share it; closed (with close_notify) with the last reference.
///
/// `@unchecked Sendable`: the `SSL` pointer is immutable and every OpenSSL call on it happens
/// while holding `lock` (one `SSL` object must not be used by two threads at once); waits for
/// socket readiness happen outside the lock, so a reader and a writer (clones) do not block each
/// other.
public final class TlsStreamResource: Resource, @unchecked Sendable {
    public var resourceKind: ResourceKind { .tlsStream }
    let socket: SocketDescriptor
    private let ssl: OpaquePointer
    private let lock = Mutex<Void>(())
    private let context: TlsContext
    /// The remote end's address.
    public let peer: SocketAddress
    /// Read, write and peek timeouts (shared by clones, kept when the stream moves).
    public let timeouts = StreamTimeouts()

    init(socket: SocketDescriptor, peer: SocketAddress, context: TlsContext, serverName: String?) throws(NetworkIOError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else { throw tlsError("SSL_new") }
        self.ssl = ssl
        self.socket = socket
        self.peer = peer
        self.context = context
        guard SSL_set_fd(ssl, socket.fd) == 1 else { throw tlsError("SSL_set_fd") }
        if let serverName {
            if SocketAddress(numericHost: serverName, port: 0) != nil {
                guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 else {
                    throw tlsError("server address \(serverName)")
                }
            } else {
                let sni = serverName.withCString {
                    SSL_ctrl(
                        ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0))
                }
                guard sni == 1, SSL_set1_host(ssl, serverName) == 1 else { throw tlsError("server name \(serverName)") }
            }
        }
    }

    deinit {
        // Best effort close_notify on the non-blocking socket; never waits.
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
        SSL_free(ssl)
    }

    /// Connects to `host:port` over TCP and completes a verified TLS handshake, all within
    /// `timeoutMs`. The server certificate must chain to one of `rootPEMs` (system roots when
    /// empty) and match `host` (a DNS name or an IP address).
    public static func connect(
        host: String, port: UInt16, rootPEMs: [[UInt8]], timeoutMs: UInt64
    )
        throws(NetworkIOError) -> TlsStreamResource
    {
        let deadline = Deadline(timeoutMs: timeoutMs)
        let context = try TlsContext.client(rootPEMs: rootPEMs)
        let candidates = try DnsIteratorResource.resolve(
            "\(host.contains(":") ? "[\(host)]" : host):\(port)", timeoutMs: timeoutMs
        ).addresses
        var lastError = NetworkIOError.invalidInput("no address found for \(host)")
        for address in candidates {
            let tcp: TcpStreamResource
            do {
                tcp = try TcpStreamResource.connect(to: address, timeoutMs: remaining(deadline))
            } catch .timedOut {
                throw .timedOut
            } catch {
                lastError = error
                continue
            }
            let stream = try TlsStreamResource(socket: tcp.socket, peer: address, context: context, serverName: host)
            try stream.handshake(accepting: false, until: deadline)
            return stream
        }
        throw lastError
    }

    private static func remaining(_ deadline: Deadline) -> UInt64 {
        let ms = deadline.pollTimeout
        return ms < 0 ? .max : UInt64(ms)
    }

    /// Runs the server (`accepting`) or client handshake.
    func handshake(accepting: Bool, until deadline: Deadline) throws(NetworkIOError) {
        _ = try perform(accepting ? "tls_accept" : "tls_connect", until: deadline, endOfStream: .failure) { ssl in
            let rc = accepting ? SSL_accept(ssl) : SSL_connect(ssl)
            return (rc == 1 ? 0 : nil, rc)
        }
    }

    /// Runs one OpenSSL I/O call under the lock until it completes, waiting for the socket (outside
    /// the lock) whenever OpenSSL asks to. `call` returns the value on success, or `nil` and the
    /// raw return code for `SSL_get_error`. The peer closing yields 0 for a read and an error
    /// for a handshake or a write.
    private func perform(
        _ operation: String, until deadline: Deadline, endOfStream: EndOfStream,
        _ call: (OpaquePointer) -> (Int?, Int32)
    ) throws(NetworkIOError) -> Int {
        while true {
            let (value, code, savedErrno): (Int?, Int32, Int32) = lock.withLock { _ in
                ERR_clear_error()
                let (value, rc) = call(ssl)
                if let value { return (value, 0, 0) }
                let savedErrno = currentErrno()
                return (nil, SSL_get_error(ssl, rc), savedErrno)
            }
            if let value { return value }
            switch code {
            case SSL_ERROR_WANT_READ:
                try socket.wait(for: Int16(POLLIN), until: deadline, operation: operation)
            case SSL_ERROR_WANT_WRITE:
                try socket.wait(for: Int16(POLLOUT), until: deadline, operation: operation)
            case SSL_ERROR_ZERO_RETURN:
                return try endOfStream.value(operation)
            case SSL_ERROR_SYSCALL where savedErrno == 0 || savedErrno == EAGAIN:
                let queued = tlsError(operation)
                if case .tls(let text) = queued, text != operation { throw queued }
                return try endOfStream.value(operation)  // the peer closed the TCP connection
            case SSL_ERROR_SYSCALL:
                throw .system(operation: operation, code: savedErrno)
            default:
                var error = tlsError(operation)
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK, case .tls(let text) = error {
                    error = .tls("\(text) (certificate: \(String(cString: X509_verify_cert_error_string(verify))))")
                }
                throw error
            }
        }
    }

    /// Reads decrypted bytes (at least one, or 0 at end of stream) within the read timeout.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(NetworkIOError) -> Int {
        guard buffer.count > 0 else { return 0 }
        return try perform("tls_read", until: timeouts.deadline(.read), endOfStream: .zero) { ssl in
            var n = 0
            let rc = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &n)
            return (rc == 1 ? n : nil, rc)
        }
    }

    /// Encrypts and writes all the gathered bytes within the write timeout; returns the count.
    public func write(gathering buffers: [UnsafeRawBufferPointer]) throws(NetworkIOError) -> Int {
        var joined: [UInt8] = []
        for b in buffers { joined.append(contentsOf: b) }
        guard !joined.isEmpty else { return 0 }
        let deadline = timeouts.deadline(.write)
        let outcome = joined.withUnsafeBytes { raw in
            // A non-blocking SSL_write must be retried with the same buffer until it completes.
            Result { () throws(NetworkIOError) -> Int in
                try perform("tls_write_vectored", until: deadline, endOfStream: .failure) { ssl in
                    var n = 0
                    let rc = SSL_write_ex(ssl, raw.baseAddress, raw.count, &n)
                    return (rc == 1 ? n : nil, rc)
                }
            }
        }
        return try outcome.get()
    }
}

/// What a TLS call makes of the peer closing the connection.
enum EndOfStream {
    /// A read: 0 bytes, as for TCP.
    case zero
    /// A handshake or write: an error.
    case failure

    func value(_ operation: String) throws(NetworkIOError) -> Int {
        switch self {
        case .zero: return 0
        case .failure: throw .tls("\(operation): the peer closed the connection")
        }
    }
}
