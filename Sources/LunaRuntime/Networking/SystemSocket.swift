#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The socket system calls and constants whose Swift spelling differs between Glibc and
/// Darwin, in one place (the rest of Networking/ uses only common names).
enum SystemSocket {
    #if canImport(Glibc)
    /// `SOCK_STREAM` as the `socket(2)` type argument.
    static let stream = Int32(SOCK_STREAM.rawValue)
    /// `SOCK_DGRAM` as the `socket(2)` type argument.
    static let datagram = Int32(SOCK_DGRAM.rawValue)
    /// Send flag that reports a closed peer as `EPIPE` instead of raising SIGPIPE.
    static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    static let stream = SOCK_STREAM
    static let datagram = SOCK_DGRAM
    /// Darwin has no such flag; sockets get `SO_NOSIGPIPE` instead (`SocketDescriptor`).
    static let noSignal: Int32 = 0
    #endif

    static func bind(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        #if canImport(Glibc)
        Glibc.bind(fd, address, length)
        #else
        Darwin.bind(fd, address, length)
        #endif
    }

    static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        #if canImport(Glibc)
        Glibc.connect(fd, address, length)
        #else
        Darwin.connect(fd, address, length)
        #endif
    }

    static func accept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: UnsafeMutablePointer<socklen_t>) -> Int32
    {
        #if canImport(Glibc)
        Glibc.accept(fd, address, length)
        #else
        Darwin.accept(fd, address, length)
        #endif
    }

    static func send(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
        #if canImport(Glibc)
        Glibc.send(fd, buffer, count, flags)
        #else
        Darwin.send(fd, buffer, count, flags)
        #endif
    }
}
