#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over read(2)/write(2)/open(2) that retry on EINTR and name failures.
enum FileDescriptorIO {
    /// Writes all of `bytes` or throws.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, offset: UInt64) throws(TraceFormatError) {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw TraceFormatError(.io, offset: offset + UInt64(done), "write failed: \(errorText(errno))")
            }
            done += n
        }
    }

    /// Reads up to `count` bytes into `dst`; 0 at end of file.
    static func readSome(
        _ fd: Int32, _ dst: UnsafeMutableRawPointer, _ count: Int, offset: UInt64
    ) throws(TraceFormatError) -> Int {
        while true {
            let n = read(fd, dst, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw TraceFormatError(.io, offset: offset, "read failed: \(errorText(errno))")
        }
    }

    static func openForWriting(_ path: String) throws(TraceFormatError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw TraceFormatError(.io, offset: 0, "cannot create \(path): \(errorText(errno))") }
        return fd
    }

    static func openForReading(_ path: String) throws(TraceFormatError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw TraceFormatError(.io, offset: 0, "cannot open \(path): \(errorText(errno))") }
        return fd
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

extension FileDescriptorIO {
    static func close(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.close(fd)
        #elseif canImport(Musl)
        return Musl.close(fd)
        #else
        return Darwin.close(fd)
        #endif
    }
}
