/// The result of replaying one trace.
public struct TraceOutcome: Sendable {
    /// How it ended.
    public enum Status: String, Sendable, Codable {
        /// Every call matched.
        case passed
        /// At least one divergence, or the adapter failed, or the trace could not be read.
        case failed
        /// The adapter lacks a capability the trace needs.
        case skipped
        /// Failed, and listed as a known failure in the `--expect` file.
        case expectedFailure = "xfail"
        /// Passed, but listed as a known failure in the `--expect` file.
        case unexpectedPass = "xpass"
    }

    /// The trace's name (its path as given, or a test name).
    public var name: String
    /// How it ended.
    public var status: Status
    /// Every divergence, in trace order of the calls.
    public var divergences: [Divergence]
    /// The adapter failure that stopped the replay, if any.
    public var adapterFailure: AdapterFailure?
    /// Why it was skipped, or why it could not be read.
    public var note: String
    /// Events in the trace.
    public var eventCount: Int
    /// Requests sent to the adapter.
    public var requestCount: Int
    /// Wall time in seconds.
    public var seconds: Double

    /// Creates an outcome.
    public init(
        name: String, status: Status, divergences: [Divergence] = [], adapterFailure: AdapterFailure? = nil,
        note: String = "", eventCount: Int = 0, requestCount: Int = 0, seconds: Double = 0
    ) {
        self.name = name
        self.status = status
        self.divergences = divergences
        self.adapterFailure = adapterFailure
        self.note = note
        self.eventCount = eventCount
        self.requestCount = requestCount
        self.seconds = seconds
    }

    /// The divergences that no earlier one explains.
    public var firstCauses: [Divergence] { divergences.filter { !$0.isConsequence } }

    /// Whether the run counts as a failure (exit code, summary).
    public var countsAsFailure: Bool { status == .failed || status == .unexpectedPass }
}
