import Synchronization
import TraceFormat

/// Where a trace's events come from: a trace file, or events in memory.
///
/// The replay reads the events twice (a planning pass, then the replay), so a source can be
/// opened more than once.
public struct TraceSource: Sendable {
    /// The name used in reports.
    public var name: String
    private let open: @Sendable () throws -> AnyIterator<TraceEvent>
    private let failure: @Sendable () -> String?
    private let incomplete: @Sendable () -> String?

    /// A trace file written by `TraceWriter`.
    public static func file(_ path: String) -> TraceSource {
        let box = ErrorBox()
        let cut = ErrorBox()
        return TraceSource(
            name: path,
            open: {
                let reader = try TraceReader(path: path)
                box.set(nil)
                cut.set(nil)
                return AnyIterator {
                    do {
                        if let e = try reader.next() { return e }
                        if case .incomplete(let lastGood, let reason) = reader.stop {
                            cut.set(
                                "\(path): incomplete trace: \(reason.detail); \(reader.eventsRead) events recovered, "
                                    + "cut at byte \(lastGood)")
                        }
                        return nil
                    } catch {
                        box.set("\(path): \(error) (after \(reader.eventsRead) events)")
                        return nil
                    }
                }
            }, failure: { box.get() }, incomplete: { cut.get() })
    }

    /// Events held in memory.
    public static func events(_ events: [TraceEvent], name: String) -> TraceSource {
        TraceSource(name: name, open: { AnyIterator(events.makeIterator()) }, failure: { nil }, incomplete: { nil })
    }

    private init(
        name: String, open: @escaping @Sendable () throws -> AnyIterator<TraceEvent>,
        failure: @escaping @Sendable () -> String?, incomplete: @escaping @Sendable () -> String?
    ) {
        self.name = name
        self.open = open
        self.failure = failure
        self.incomplete = incomplete
    }

    /// Opens a fresh pass over the events.
    public func makeIterator() throws -> AnyIterator<TraceEvent> { try open() }

    /// The read error that ended the last pass early, if any.
    public var readError: String? { failure() }

    /// Set when the last pass read a trace that ends without its closing summary (its writer
    /// was killed, or the file was cut): what was recovered and where the cut is.
    public var incompleteness: String? { incomplete() }
}

/// Holds the read error of the current pass.
private final class ErrorBox: Sendable {
    private let value = Mutex<String?>(nil)
    func set(_ v: String?) { value.withLock { $0 = v } }
    func get() -> String? { value.withLock { $0 } }
}
