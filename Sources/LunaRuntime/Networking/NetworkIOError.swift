#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a socket or TLS operation did not complete.
///
/// `.timedOut` becomes lunatic's result 9027; every other case becomes an error resource
/// (`lunatic::error`) whose text is `description`.
public enum NetworkIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The operation's timeout expired.
    case timedOut
    /// The calling process was killed while it waited (see `NetworkCancellation`).
    case cancelled
    /// A system call failed with `errno` `code` (the text names the operation).
    case system(operation: String, code: Int32)
    /// A TLS failure: the OpenSSL error queue's text.
    case tls(String)
    /// The input was not usable (bad name, bad certificate, …).
    case invalidInput(String)

    /// The current `errno`, for `operation`.
    static func lastError(_ operation: String) -> NetworkIOError {
        .system(operation: operation, code: currentErrno())
    }

    public var description: String {
        switch self {
        case .timedOut:
            return "operation timed out"
        case .cancelled:
            return "the process ended while waiting"
        case .system(let operation, let code):
            let text = String(cString: strerror(code))
            return "\(operation): \(text) (os error \(code))"
        case .tls(let text):
            return "tls: \(text)"
        case .invalidInput(let text):
            return "invalid input: \(text)"
        }
    }
}

/// The calling thread's `errno`.
@inline(__always) func currentErrno() -> Int32 { errno }
