/// Something wrong with the adapter program itself (not a divergence of the semantics it
/// implements). The trace that hit it fails with this as the reason; the adapter is killed and
/// a fresh one serves the next trace.
public struct AdapterFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Codable {
        /// The adapter program could not be started.
        case launchFailed = "launch-failed"
        /// It did not answer `hello` in time, or answered it wrongly.
        case noHandshake = "no-handshake"
        /// It speaks another protocol version.
        case badVersion = "bad-protocol-version"
        /// It exited (or closed its stdout) while requests were outstanding.
        case crashed = "crashed"
        /// It stopped answering (a call that must not block got no answer in time, or the whole
        /// trace ran out of time).
        case hung = "hung"
        /// It wrote a line that is not a protocol response.
        case garbage = "garbage-output"
        /// It answered a request id that was never sent.
        case unknownID = "unknown-id"
        /// It answered a request with an `error` response (did not understand it).
        case rejectedRequest = "rejected-request"
        /// It answered the same request twice.
        case duplicateAnswer = "duplicate-answer"
        /// It wrote a line longer than the limit for a response.
        case overlongLine = "overlong-line"
    }

    /// The kind of failure.
    public var kind: Kind
    /// A one-line explanation naming the place (request, line, exit status).
    public var message: String
    /// The adapter's last stderr lines when it happened.
    public var stderrTail: [String]

    /// Creates a failure report.
    public init(_ kind: Kind, _ message: String, stderrTail: [String] = []) {
        self.kind = kind
        self.message = message
        self.stderrTail = stderrTail
    }

    public var description: String {
        var s = "adapter \(kind.rawValue): \(message)"
        if !stderrTail.isEmpty {
            s += "\n  last adapter stderr lines:\n" + stderrTail.map { "    | " + $0 }.joined(separator: "\n")
        }
        return s
    }
}
