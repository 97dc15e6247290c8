import TraceFormat
@_spi(WASIPlatform) import WASI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A guest's WASI standard stream (fd 0, 1 or 2) as WasmKit's WASI sees it.
///
/// Output goes straight to the environment's `GuestOutput` sink, tagged with the writing
/// process, in the guest's own thread: nothing is buffered, so nothing can be lost when a
/// process or the host ends, and tests and `luna-trace test` capture it per process.
/// Standard input reads a host descriptor (`GuestOptions.standardInput`, as lunatic inherits
/// stdin) or is empty.
final class GuestStdioFile: WASIFile {
    /// Which stream this is.
    enum Role: Sendable {
        /// fd 0, reading host descriptor `fd` (nil: always at end of file).
        case input(fd: Int32?)
        /// fd 1 or 2, written to `sink` as process `pid`.
        case output(fd: Int32, pid: ProcessID, sink: any GuestOutput)
    }

    let role: Role

    init(_ role: Role) { self.role = role }

    // MARK: WASIEntry

    /// Borrowed: closing the guest's stream never closes anything of the host.
    var isBorrowed: Bool { true }

    func attributes() throws -> WASIAbi.Filestat {
        WASIAbi.Filestat(dev: 0, ino: 0, filetype: .CHARACTER_DEVICE, nlink: 0, size: 0, atim: 0, mtim: 0, ctim: 0)
    }

    func fileType() throws -> WASIAbi.FileType { .CHARACTER_DEVICE }

    func status() throws -> WASIAbi.Fdflags { [] }

    func setTimes(atim: WASIAbi.Timestamp, mtim: WASIAbi.Timestamp, fstFlags: WASIAbi.FstFlags) throws {}

    func advise(offset: WASIAbi.FileSize, length: WASIAbi.FileSize, advice: WASIAbi.Advice) throws {}

    func close() throws {}

    // MARK: WASIFile

    func fdStat() throws -> WASIAbi.FdStat {
        let rights: WASIAbi.Rights
        switch role {
        case .input: rights = .FD_READ
        case .output: rights = .FD_WRITE
        }
        return WASIAbi.FdStat(fsFileType: .CHARACTER_DEVICE, fsFlags: [], fsRightsBase: rights, fsRightsInheriting: [])
    }

    func setFdStatFlags(_ flags: WASIAbi.Fdflags) throws {}

    func setFilestatSize(_ size: WASIAbi.FileSize) throws { throw WASIAbi.Errno.EINVAL }

    func sync() throws {}

    func datasync() throws {}

    func tell() throws -> WASIAbi.FileSize { throw WASIAbi.Errno.ESPIPE }

    func seek(offset: WASIAbi.FileDelta, whence: WASIAbi.Whence) throws -> WASIAbi.FileSize {
        throw WASIAbi.Errno.ESPIPE
    }

    func write(vectored buffers: GuestBuffers) throws -> WASIAbi.Size {
        guard case .output(let fd, let pid, let sink) = role else { throw WASIAbi.Errno.EBADF }
        var total = 0
        for index in 0..<buffers.count {
            total += try buffers.withHostBuffer(at: index) { buffer in
                if buffer.count > 0 { sink.write(pid: pid, fd: fd, bytes: UnsafeRawBufferPointer(buffer)) }
                return buffer.count
            }
        }
        guard let size = WASIAbi.Size(exactly: total) else { throw WASIAbi.Errno.EINVAL }
        return size
    }

    func pwrite(vectored buffers: GuestBuffers, offset: WASIAbi.FileSize) throws -> WASIAbi.Size {
        throw WASIAbi.Errno.ESPIPE
    }

    func read(into buffers: GuestBuffers) throws -> WASIAbi.Size {
        guard case .input(let fd) = role else { throw WASIAbi.Errno.EBADF }
        guard let fd else { return 0 }
        var total = 0
        for index in 0..<buffers.count {
            let n = try buffers.withHostBuffer(at: index) { buffer -> Int in
                guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
                while true {
                    let n = Self.hostRead(fd, base, buffer.count)
                    if n >= 0 { return n }
                    if errno != EINTR { throw WASIAbi.Errno.EIO }
                }
            }
            total += n
            // A short read ends the call, as readv does.
            if n == 0 || total > 0 { break }
        }
        return WASIAbi.Size(truncatingIfNeeded: total)
    }

    func pread(into buffers: GuestBuffers, offset: WASIAbi.FileSize) throws -> WASIAbi.Size {
        throw WASIAbi.Errno.ESPIPE
    }

    private static func hostRead(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.read(fd, base, count)
        #else
        return Darwin.read(fd, base, count)
        #endif
    }
}
