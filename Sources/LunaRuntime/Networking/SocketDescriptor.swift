#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One open, non-blocking socket file descriptor; closed when the last reference goes away.
///
/// Every blocking operation is a loop of a non-blocking system call and `poll` until a
/// `Deadline`, so timeouts are exact and a thread never blocks inside `recv`/`send` itself.
/// Thread safety: `fd` is immutable and the kernel serialises calls on it, so concurrent use
/// from clones of a stream (one reading, one writing) is safe.
final class SocketDescriptor: Sendable {
    /// The descriptor number.
    let fd: Int32

    /// Wraps an open descriptor and switches it to non-blocking mode.
    init(adopting fd: Int32) {
        self.fd = fd
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// A new socket of `family` and `type` (`SOCK_STREAM`, `SOCK_DGRAM`).
    static func open(family: Int32, type: Int32, operation: String) throws(NetworkIOError) -> SocketDescriptor {
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw .lastError(operation) }
        return SocketDescriptor(adopting: fd)
    }

    deinit { close(fd) }

    /// Waits until the socket is ready for `events` (`POLLIN`/`POLLOUT`) or the deadline passes.
    func wait(for events: Int16, until deadline: Deadline, operation: String) throws(NetworkIOError) {
        let cancelled = NetworkCancellation.isCancelled
        while true {
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            var timeout = deadline.pollTimeout
            if timeout == 0 { throw .timedOut }
            if let cancelled {
                if cancelled() { throw .cancelled }
                let slice = NetworkCancellation.pollSlice
                timeout = timeout < 0 ? slice : min(timeout, slice)
            }
            let n = poll(&pfd, 1, timeout)
            if n > 0 { return }  // ready, or an error/hang-up the next call will report
            if n == 0 {
                if deadline.hasExpired { throw .timedOut }
                continue
            }
            if currentErrno() == EINTR { continue }
            throw .lastError(operation)
        }
    }

    /// Runs the non-blocking `attempt` until it does not report `EAGAIN`, waiting for `events`
    /// in between. `attempt` returns a negative value with `errno` set on failure.
    func retrying(
        _ operation: String, events: Int16, until deadline: Deadline, _ attempt: () -> Int
    ) throws(NetworkIOError) -> Int {
        while true {
            let n = attempt()
            if n >= 0 { return n }
            let code = currentErrno()
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                try wait(for: events, until: deadline, operation: operation)
                continue
            }
            throw .system(operation: operation, code: code)
        }
    }

    // MARK: Options and addresses

    /// Sets an integer socket option.
    func setOption(level: Int32, name: Int32, value: Int32, operation: String) throws(NetworkIOError) {
        var v = value
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .lastError(operation)
        }
    }

    /// Reads an integer socket option.
    func option(level: Int32, name: Int32, operation: String) throws(NetworkIOError) -> Int32 {
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, level, name, &v, &len) == 0 else { throw .lastError(operation) }
        return v
    }

    /// The address the socket is bound to.
    func localAddress() throws(NetworkIOError) -> SocketAddress {
        try address(operation: "local_addr") { getsockname(fd, $0, $1) }
    }

    /// The address of the connected peer.
    func peerAddress() throws(NetworkIOError) -> SocketAddress {
        try address(operation: "peer_addr") { getpeername(fd, $0, $1) }
    }

    private func address(
        operation: String, _ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(NetworkIOError) -> SocketAddress {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, &len) }
        }
        guard rc == 0 else { throw .lastError(operation) }
        let parsed = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(storage: $0) }
        }
        guard let parsed else { throw .invalidInput("\(operation): unsupported address family") }
        return parsed
    }

    // MARK: Connection set-up

    /// Binds to `address`.
    func bind(to address: SocketAddress, operation: String) throws(NetworkIOError) {
        let rc = address.withSockAddr { SystemSocket.bind(fd, $0, $1) }
        guard rc == 0 else { throw .lastError(operation) }
    }

    /// Connects to `address`, waiting at most until `deadline`.
    func connect(to address: SocketAddress, until deadline: Deadline, operation: String) throws(NetworkIOError) {
        let rc = address.withSockAddr { SystemSocket.connect(fd, $0, $1) }
        if rc == 0 { return }
        let code = currentErrno()
        guard code == EINPROGRESS || code == EINTR else { throw .system(operation: operation, code: code) }
        try wait(for: Int16(POLLOUT), until: deadline, operation: operation)
        let pending = try option(level: SOL_SOCKET, name: SO_ERROR, operation: operation)
        if pending != 0 { throw .system(operation: operation, code: pending) }
    }

    /// Accepts one connection (waits until `deadline`), returning its socket and peer address.
    func accept(until deadline: Deadline, operation: String) throws(NetworkIOError) -> (SocketDescriptor, SocketAddress) {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let newFd = try retrying(operation, events: Int16(POLLIN), until: deadline) {
            len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            return Int(
                withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        SystemSocket.accept(fd, $0, &len)
                    }
                })
        }
        let socket = SocketDescriptor(adopting: Int32(newFd))
        let peer = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(storage: $0) }
        }
        guard let peer else { throw .invalidInput("\(operation): unsupported peer address family") }
        return (socket, peer)
    }

    // MARK: Data

    /// Receives into `buffer` (flags e.g. `MSG_PEEK`); 0 means the peer closed.
    func receive(
        into buffer: UnsafeMutableRawBufferPointer, flags: Int32 = 0, until deadline: Deadline,
        operation: String
    ) throws(NetworkIOError) -> Int {
        try retrying(operation, events: Int16(POLLIN), until: deadline) {
            recv(fd, buffer.baseAddress, buffer.count, flags)
        }
    }

    /// Sends the gathered `buffers` once (a partial write is possible); returns bytes sent.
    func send(
        gathering buffers: [UnsafeRawBufferPointer], until deadline: Deadline,
        operation: String
    ) throws(NetworkIOError) -> Int {
        var iovecs = buffers.map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        return try retrying(operation, events: Int16(POLLOUT), until: deadline) {
            iovecs.withUnsafeMutableBufferPointer { iov in
                var header = msghdr()
                header.msg_iov = iov.baseAddress
                header.msg_iovlen = numericCast(iov.count)
                return sendmsg(fd, &header, SystemSocket.noSignal)
            }
        }
    }

    /// Sends one datagram to `address` (or, with `nil`, to the connected peer).
    func sendDatagram(
        _ buffer: UnsafeRawBufferPointer, to address: SocketAddress?, until deadline: Deadline,
        operation: String
    ) throws(NetworkIOError) -> Int {
        try retrying(operation, events: Int16(POLLOUT), until: deadline) {
            if let address {
                return address.withSockAddr {
                    sendto(fd, buffer.baseAddress, buffer.count, SystemSocket.noSignal, $0, $1)
                }
            }
            return SystemSocket.send(fd, buffer.baseAddress, buffer.count, SystemSocket.noSignal)
        }
    }

    /// Receives one datagram into `buffer`, returning its length and sender.
    func receiveDatagram(
        into buffer: UnsafeMutableRawBufferPointer, until deadline: Deadline,
        operation: String
    ) throws(NetworkIOError) -> (Int, SocketAddress) {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = try retrying(operation, events: Int16(POLLIN), until: deadline) {
            len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            return withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, buffer.baseAddress, buffer.count, 0, $0, &len)
                }
            }
        }
        let sender = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(storage: $0) }
        }
        guard let sender else { throw .invalidInput("\(operation): unsupported sender address family") }
        return (n, sender)
    }
}
