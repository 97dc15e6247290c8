#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A destination for a command's text (stdout, stderr, a file, or a string in tests).
package protocol TextOutput: AnyObject {
    /// Appends `text` as is.
    func write(_ text: String)
    /// Pushes buffered text to its destination.
    func flush()
}

extension TextOutput {
    /// Appends `text` and a newline.
    package func line(_ text: String = "") { write(text + "\n") }
}

/// Buffered text output to a file descriptor (stdout, stderr or an opened file).
package final class FileDescriptorOutput: TextOutput {
    private let fd: Int32
    private let closeOnDeinit: Bool
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Set when a write to the descriptor failed (e.g. a closed pipe); further text is dropped.
    package private(set) var failed = false
    /// The `errno` of the failed write.
    package private(set) var failure: Int32 = 0

    /// Wraps `fd`; with `closeOnDeinit` the descriptor is closed after the final flush.
    package init(fd: Int32, bufferSize: Int = 64 * 1024, closeOnDeinit: Bool = false) {
        self.fd = fd
        self.capacity = bufferSize
        self.closeOnDeinit = closeOnDeinit
        buffer.reserveCapacity(bufferSize)
    }

    deinit {
        flush()
        if closeOnDeinit { _ = close(fd) }
    }

    package func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= capacity { flush() }
    }

    package func flush() {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        guard !failed else { return }
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc_write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    failed = true
                    return
                }
                if n == 0 {
                    failure = EIO
                    failed = true
                    return
                }
                offset += n
            }
        }
    }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}

/// Text kept in memory: the output seam the in-process tests read.
package final class StringOutput: TextOutput {
    /// Everything written so far.
    package private(set) var text = ""
    /// An empty output.
    package init() {}
    package func write(_ text: String) { self.text += text }
    package func flush() {}
}

/// The streams a command talks to: its standard output, its standard error, and whether
/// progress may be shown (only when standard error is a terminal).
package struct CommandIO {
    /// Where results go.
    package var out: any TextOutput
    /// Where errors, warnings and progress go.
    package var err: any TextOutput
    /// Whether `err` is an interactive terminal (progress lines are shown only then).
    package var showsProgress: Bool
    /// The descriptor `-` reads from.
    package var standardInput: Int32

    /// Explicit streams (tests pass `StringOutput`s).
    package init(out: any TextOutput, err: any TextOutput, showsProgress: Bool = false, standardInput: Int32 = 0) {
        self.out = out
        self.err = err
        self.showsProgress = showsProgress
        self.standardInput = standardInput
    }

    /// The process's stdout and stderr.
    package static func standard() -> CommandIO {
        CommandIO(
            out: FileDescriptorOutput(fd: 1),
            err: FileDescriptorOutput(fd: 2, bufferSize: 0),
            showsProgress: isatty(2) == 1,
            standardInput: 0
        )
    }

    /// Flushes both streams.
    package func flush() {
        out.flush()
        err.flush()
    }
}
