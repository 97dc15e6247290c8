#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 socket address, in the shape lunatic's guest ABI passes it: an address type
/// (4 or 6), 4 or 16 address bytes, a port, and for v6 a flow label and a scope id.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family, with lunatic's `addr_type` codes as raw values.
    public enum Family: UInt32, Sendable {
        case v4 = 4
        case v6 = 6
    }

    /// Which family the address belongs to.
    public let family: Family
    /// 4 bytes for v4, 16 bytes for v6, in network order.
    public let bytes: [UInt8]
    /// The port number.
    public let port: UInt16
    /// The v6 flow label (0 for v4).
    public let flowInfo: UInt32
    /// The v6 scope id (0 for v4).
    public let scopeId: UInt32

    /// An address from raw parts; `nil` when the byte count does not fit the family.
    public init?(family: Family, bytes: [UInt8], port: UInt16, flowInfo: UInt32 = 0, scopeId: UInt32 = 0) {
        guard bytes.count == (family == .v4 ? 4 : 16) else { return nil }
        self.family = family
        self.bytes = bytes
        self.port = port
        self.flowInfo = family == .v6 ? flowInfo : 0
        self.scopeId = family == .v6 ? scopeId : 0
    }

    /// An IPv4 address from its four octets.
    public static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) -> SocketAddress {
        SocketAddress(family: .v4, bytes: [a, b, c, d], port: port)!
    }

    /// `127.0.0.1:port`.
    public static func loopback(port: UInt16) -> SocketAddress { .ipv4(127, 0, 0, 1, port: port) }

    /// Parses a numeric IP address (`"127.0.0.1"`, `"::1"`) with a port; `nil` if it is not one.
    public init?(numericHost host: String, port: UInt16) {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            let raw = withUnsafeBytes(of: &v4) { Array($0) }
            self.init(family: .v4, bytes: raw, port: port)
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            let raw = withUnsafeBytes(of: &v6) { Array($0) }
            self.init(family: .v6, bytes: raw, port: port)
            return
        }
        return nil
    }

    /// Reads a kernel socket address (`sockaddr_in` or `sockaddr_in6`); `nil` for other families.
    init?(storage: UnsafePointer<sockaddr>) {
        switch Int32(storage.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(storage).loadUnaligned(as: sockaddr_in.self)
            var addr = sin.sin_addr
            let raw = withUnsafeBytes(of: &addr) { Array($0) }
            self.init(family: .v4, bytes: raw, port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(storage).loadUnaligned(as: sockaddr_in6.self)
            var addr = sin6.sin6_addr
            let raw = withUnsafeBytes(of: &addr) { Array($0) }
            self.init(
                family: .v6, bytes: raw, port: UInt16(bigEndian: sin6.sin6_port),
                flowInfo: UInt32(bigEndian: sin6.sin6_flowinfo), scopeId: sin6.sin6_scope_id)
        default:
            return nil
        }
    }

    /// The `AF_INET` / `AF_INET6` constant of the family.
    var addressFamily: Int32 { family == .v4 ? AF_INET : AF_INET6 }

    /// Calls `body` with this address as a kernel `sockaddr` and its length.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        switch family {
        case .v4:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            #if canImport(Darwin)
            sin.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
            #endif
            sin.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
            return try withUnsafePointer(to: &sin) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            #if canImport(Darwin)
            sin6.sin6_len = UInt8(MemoryLayout<sockaddr_in6>.size)
            #endif
            sin6.sin6_port = port.bigEndian
            sin6.sin6_flowinfo = flowInfo.bigEndian
            sin6.sin6_scope_id = scopeId
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
            return try withUnsafePointer(to: &sin6) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// The address in the usual text form: `127.0.0.1:80`, `[::1]:80`.
    public var host: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(addressFamily, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { family == .v4 ? "\(host):\(port)" : "[\(host)]:\(port)" }
}
