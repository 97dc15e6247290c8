import Dispatch
import Synchronization
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A list of socket addresses handed out one by one (lunatic's DNS iterator resource): the
/// result of `resolve`, or the one address of `tcp_local_addr`, `tcp_accept`'s peer, ….
public final class DnsIteratorResource: Resource {
    public var resourceKind: ResourceKind { .dnsIterator }
    /// All addresses, in the order `next` returns them.
    public let addresses: [SocketAddress]
    private let position = Mutex<Int>(0)

    /// An iterator over `addresses`.
    public init(_ addresses: [SocketAddress]) { self.addresses = addresses }

    /// The next address, or `nil` when all have been returned.
    public func next() -> SocketAddress? {
        position.withLock { index in
            guard index < addresses.count else { return nil }
            defer { index += 1 }
            return addresses[index]
        }
    }

    /// Resolves `"host:port"` (also `"[v6]:port"`) like Rust's `ToSocketAddrs`, waiting at most
    /// `timeoutMs` (`UInt64.max` = no limit). Duplicate answers (one per socket type) are merged.
    public static func resolve(_ name: String, timeoutMs: UInt64) throws(NetworkIOError) -> DnsIteratorResource {
        guard let colon = name.lastIndex(of: ":"),
            let port = UInt16(name[name.index(after: colon)...])
        else { throw .invalidInput("invalid socket address \"\(name)\" (expected host:port)") }
        let bracketed = String(name[..<colon])
        let host =
            bracketed.hasPrefix("[") && bracketed.hasSuffix("]")
            ? String(bracketed.dropFirst().dropLast()) : bracketed
        if let numeric = SocketAddress(numericHost: host, port: port) {
            return DnsIteratorResource([numeric])
        }
        if timeoutMs == .max { return DnsIteratorResource(try lookup(host: host, port: port)) }

        // getaddrinfo cannot be interrupted: run it on its own thread and stop waiting at the
        // deadline (the lookup then finishes in the background and its answer is discarded).
        let outcome = Mutex<Result<[SocketAddress], NetworkIOError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let result = Result { () throws(NetworkIOError) in try lookup(host: host, port: port) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        let ms = min(timeoutMs, UInt64(Int32.max))
        guard done.wait(timeout: .now() + .milliseconds(Int(ms))) == .success,
            let result = outcome.withLock({ $0 })
        else { throw .timedOut }
        return DnsIteratorResource(try result.get())
    }

    private static func lookup(host: String, port: UInt16) throws(NetworkIOError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = SystemSocket.stream
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0 else {
            throw .invalidInput("failed to lookup address information: \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var found: [SocketAddress] = []
        var node = list
        while let entry = node {
            if let sa = entry.pointee.ai_addr, let parsed = SocketAddress(storage: sa),
                let withPort = SocketAddress(
                    family: parsed.family, bytes: parsed.bytes, port: port,
                    flowInfo: parsed.flowInfo, scopeId: parsed.scopeId),
                !found.contains(withPort)
            {
                found.append(withPort)
            }
            node = entry.pointee.ai_next
        }
        return found
    }
}
