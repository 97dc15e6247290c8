#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered input of a trace: a file, a pipe, or bytes in memory. Tracks the trace offset of
/// the next unread byte; memory use is the largest frame looked at, not the file.
final class TraceInput {
    private let fd: Int32
    private let ownsFD: Bool
    /// Whether `seek` and `readAt` work.
    let seekable: Bool
    private var buf: UnsafeMutableRawBufferPointer
    private var lo = 0
    private var hi = 0
    private var eof: Bool
    /// Trace offset of the next unread byte.
    private(set) var offset: UInt64 = 0
    /// Total size when known (files and memory).
    let size: UInt64?

    init(fd: Int32, owned: Bool, allowSeeking: Bool) {
        self.fd = fd
        ownsFD = owned
        var st = stat()
        let isRegular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        let pos = lseek(fd, 0, SEEK_CUR)
        seekable = allowSeeking && isRegular && pos == 0
        size = seekable ? UInt64(st.st_size) : nil
        buf = .allocate(byteCount: 1 << 18, alignment: 16)
        eof = false
    }

    init(bytes: [UInt8]) {
        fd = -1
        ownsFD = false
        seekable = true
        size = UInt64(bytes.count)
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 16)
        bytes.withUnsafeBytes { src in if src.count > 0 { storage.copyMemory(from: src) } }
        buf = storage
        hi = bytes.count
        eof = true
    }

    deinit {
        buf.deallocate()
        if ownsFD { _ = FileDescriptorIO.close(fd) }
    }

    /// Bytes buffered and not yet consumed.
    var available: Int { hi - lo }

    /// Makes `n` bytes available from the current offset; returns how many are (fewer only at
    /// end of input).
    @discardableResult
    func ensure(_ n: Int) throws(TraceFormatError) -> Int {
        if hi - lo >= n || eof { return min(n, hi - lo) }
        if lo > 0 {
            if hi > lo { memmove(buf.baseAddress!, buf.baseAddress! + lo, hi - lo) }
            hi -= lo
            lo = 0
        }
        if buf.count < n {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(n, buf.count * 2), alignment: 16)
            if hi > 0 { bigger.baseAddress!.copyMemory(from: buf.baseAddress!, byteCount: hi) }
            buf.deallocate()
            buf = bigger
        }
        while hi < n {
            let got = try FileDescriptorIO.readSome(fd, buf.baseAddress! + hi, buf.count - hi, offset: offset + UInt64(hi))
            if got == 0 { eof = true; break }
            hi += got
        }
        return min(n, hi)
    }

    /// The next `n` buffered bytes (call `ensure(n)` first).
    func peek(_ n: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buf[lo..<(lo + n)])
    }

    /// Byte `i` past the current offset (must be buffered).
    func byte(_ i: Int) -> UInt8 { buf[lo + i] }

    /// Little-endian u32 at `i` past the current offset (must be buffered).
    func u32(_ i: Int) -> UInt32 {
        UInt32(buf[lo + i]) | UInt32(buf[lo + i + 1]) << 8 | UInt32(buf[lo + i + 2]) << 16 | UInt32(buf[lo + i + 3]) << 24
    }

    /// Drops `n` buffered bytes.
    func consume(_ n: Int) {
        lo += n
        offset += UInt64(n)
    }

    /// Skips `n` bytes, reading through them; returns how many were skipped (fewer at end).
    func skip(_ n: UInt64) throws(TraceFormatError) -> UInt64 {
        var left = n
        while left > 0 {
            let want = Int(min(left, UInt64(1 << 18)))
            let got = try ensure(want)
            consume(got)
            left -= UInt64(got)
            if got < want { break }
        }
        return n - left
    }

    /// Moves to trace offset `to` (seekable inputs only).
    func seek(to target: UInt64) throws(TraceFormatError) {
        precondition(seekable)
        if fd < 0 {
            let end = UInt64(hi)
            let t = min(target, end)
            lo = Int(t)
            offset = t
            return
        }
        if lseek(fd, off_t(target), SEEK_SET) < 0 {
            throw TraceFormatError(.io, offset: target, "seek failed: \(FileDescriptorIO.errorText(errno))")
        }
        lo = 0; hi = 0; eof = false
        offset = target
    }

    /// Reads `n` bytes at trace offset `at` without moving (seekable inputs only); nil if the
    /// input is shorter.
    func read(at: UInt64, count n: Int) throws(TraceFormatError) -> [UInt8]? {
        guard seekable, let size, at <= size, UInt64(n) <= size - at else { return nil }
        if fd < 0 {
            return Array(UnsafeRawBufferPointer(rebasing: buf[Int(at)..<(Int(at) + n)]))
        }
        var out = [UInt8](repeating: 0, count: n)
        var done = 0
        while done < n {
            let got = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, n - done, off_t(at) + off_t(done)) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { return nil }
            done += got
        }
        return out
    }
}
