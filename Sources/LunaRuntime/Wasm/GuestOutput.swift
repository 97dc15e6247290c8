import Synchronization
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where guests' standard output and error (WASI `fd_write` to fd 1 and 2) go.
///
/// Called from guest threads, possibly many at once.
public protocol GuestOutput: AnyObject, Sendable {
    /// Accepts the bytes process `pid` wrote to `fd` (1 = stdout, 2 = stderr).
    func write(pid: ProcessID, fd: Int32, bytes: UnsafeRawBufferPointer)
}

/// Forwards guest output to the host process's own stdout and stderr.
public final class StandardGuestOutput: GuestOutput {
    /// The shared instance.
    public static let shared = StandardGuestOutput()

    /// Creates the forwarder.
    public init() {}

    public func write(pid: ProcessID, fd: Int32, bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
            let n = Glibc.write(fd == 2 ? 2 : 1, base + offset, bytes.count - offset)
            #else
            let n = Darwin.write(fd == 2 ? 2 : 1, base + offset, bytes.count - offset)
            #endif
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Keeps guest output in memory, per process and stream, for tests and `luna-trace test`.
public final class CapturedGuestOutput: GuestOutput {
    /// One write, in arrival order.
    public struct Chunk: Sendable, Equatable {
        /// The writing process.
        public var pid: ProcessID
        /// 1 = stdout, 2 = stderr.
        public var fd: Int32
        /// The bytes written.
        public var bytes: [UInt8]
    }

    private let chunks = Mutex<[Chunk]>([])

    /// Creates an empty capture.
    public init() {}

    public func write(pid: ProcessID, fd: Int32, bytes: UnsafeRawBufferPointer) {
        let chunk = Chunk(pid: pid, fd: fd, bytes: Array(bytes))
        chunks.withLock { $0.append(chunk) }
    }

    /// Every write so far, in arrival order.
    public var allChunks: [Chunk] { chunks.withLock { $0 } }

    /// Text written to `fd` (1 or 2), by process `pid` or by all processes when `pid` is nil.
    public func text(fd: Int32 = 1, pid: ProcessID? = nil) -> String {
        let bytes = chunks.withLock { list in
            list.filter { $0.fd == fd && (pid == nil || $0.pid == pid) }.flatMap(\.bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Standard output of all processes.
    public var stdout: String { text(fd: 1) }
    /// Standard error of all processes.
    public var stderr: String { text(fd: 2) }
}
