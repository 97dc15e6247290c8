import Synchronization

/// The read, write and peek timeouts of one stream, in milliseconds (`UInt64.max` = none).
///
/// Shared by every id of a cloned stream and carried along when the stream moves to another
/// process, as in lunatic (the timeouts live in the connection, not in the table entry).
public final class StreamTimeouts: Sendable {
    /// Which of the three timeouts.
    public enum Which: String, Sendable, CaseIterable {
        case read, write, peek
    }

    private let values = Mutex<[UInt64]>([.max, .max, .max])

    /// Creates timeouts that are all "none".
    public init() {}

    private static func index(_ which: Which) -> Int {
        switch which {
        case .read: return 0
        case .write: return 1
        case .peek: return 2
        }
    }

    /// The timeout in milliseconds, `UInt64.max` when none is set.
    public func get(_ which: Which) -> UInt64 { values.withLock { $0[Self.index(which)] } }

    /// Sets the timeout in milliseconds; `UInt64.max` removes it.
    public func set(_ which: Which, _ ms: UInt64) { values.withLock { $0[Self.index(which)] = ms } }

    /// A deadline starting now for an operation governed by `which`.
    func deadline(_ which: Which) -> Deadline { Deadline(timeoutMs: get(which)) }
}
