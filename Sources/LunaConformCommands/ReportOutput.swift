#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing reports to standard output without crashing when it fails (a closed pipe as in
/// `| head -1`, a full disk as in `> /dev/full`): a failed write becomes an error naming the
/// cause, and the command exits non-zero.
struct ReportOutput {
    /// The first write failure, if any; later writes are skipped.
    private(set) var failure: ReportWriteError?

    init() {
        // A closed pipe must give EPIPE from write, not end the process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes `text` to standard output; after a failure it only keeps the first error.
    mutating func write(_ text: String) {
        guard failure == nil else { return }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { raw in
                rawWrite(1, raw.baseAddress! + offset, raw.count - offset)
            }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            failure = ReportWriteError(reason: n < 0 ? String(cString: strerror(errno)) : "nothing written")
            return
        }
        bytes.removeAll()
    }

    /// Throws the first write failure.
    func check() throws(ReportWriteError) {
        if let failure { throw failure }
    }
}

/// Standard output could not take the report.
struct ReportWriteError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "cannot write the report to standard output: \(reason)" }
}

/// The system `write` (the method above shadows the name).
private func rawWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
