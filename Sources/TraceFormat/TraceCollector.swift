/// A thread-safe in-memory sink that keeps every event in recording order (for tests and tools).
public final class TraceCollector: TraceSink {
    private let store = Locked<[TraceEvent]>([])

    /// An empty collector.
    public init() {}

    /// Appends `event`.
    public func record(_ event: TraceEvent) {
        store.withLock { $0.append(event) }
    }

    /// The events recorded so far, in order.
    public var events: [TraceEvent] { store.withLock { $0 } }

    /// Number of events recorded so far.
    public var count: Int { store.withLock { $0.count } }

    /// Forgets every event.
    public func removeAll() { store.withLock { $0.removeAll() } }
}
