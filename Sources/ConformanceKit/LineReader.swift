#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The newline-delimited reader that the adapter client and the built-in adapter share: both
/// speak JSON lines over file descriptors.
package enum LineReader {
    /// Reads `fd` until end of file (or a read error) and hands `handle` each newline-terminated
    /// line without its newline, then any final unterminated line.
    ///
    /// - Parameters:
    ///   - runawayLimit: when a line grows past this many bytes without a newline, its first 200
    ///     bytes are handed on as a line (so the receiver can report it) and the rest is dropped.
    ///   - afterEachRead: called after the lines of each chunk read have been handled.
    ///   - runaway: when given, a runaway line goes here instead (its first 200 bytes) and the
    ///     rest of it, up to its newline, is skipped rather than read as more lines.
    ///   - handle: called with each line; the bytes are valid only during the call.
    package static func readLines(
        fd: Int32, runawayLimit: Int = .max, afterEachRead: () -> Void = {},
        runaway: ((UnsafeBufferPointer<UInt8>) -> Void)? = nil,
        _ handle: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        var skipping = false  // inside a runaway line reported through `runaway`
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            buffer.withUnsafeBufferPointer { chunk in
                var start = 0
                for i in 0..<n where chunk[i] == 0x0A {
                    if skipping {
                        skipping = false
                        start = i + 1
                        continue
                    }
                    if pending.isEmpty {
                        handle(UnsafeBufferPointer(rebasing: chunk[start..<i]))
                    } else {
                        pending.append(contentsOf: chunk[start..<i])
                        pending.withUnsafeBufferPointer { handle($0) }
                        pending.removeAll(keepingCapacity: true)
                    }
                    start = i + 1
                }
                if start < n && !skipping { pending.append(contentsOf: chunk[start..<n]) }
            }
            if pending.count > runawayLimit {
                pending.withUnsafeBufferPointer { line in
                    let head = UnsafeBufferPointer(rebasing: line.prefix(200))
                    if let runaway { runaway(head) } else { handle(head) }
                }
                pending = []
                if runaway != nil { skipping = true }
            }
            afterEachRead()
        }
        if !pending.isEmpty { pending.withUnsafeBufferPointer { handle($0) } }
    }
}
