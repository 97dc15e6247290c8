import TraceFormat

/// The kind of difference between a trace and an implementation's behaviour.
public enum DivergenceCategory: String, Sendable, Codable, CaseIterable {
    /// A push returned another slot index, or a take yielded another resource than the one in
    /// that slot (or consumed one it must leave).
    case wrongResourceIndex = "wrong-resource-index"
    /// A delivery was expected and none came.
    case lostMessage = "lost-message"
    /// A delivery where the trace had a timeout, a duplicate, or a message that should not have
    /// matched the tag set.
    case unexpectedMessage = "unexpected-message"
    /// A message arrived before one that had to come first.
    case wrongOrder = "wrong-order"
    /// The right message with a wrong tag, size or content (or `get_tag`/`data_size`/`read_data`
    /// giving other values).
    case wrongData = "wrong-tag-size-content"
    /// Timed out where the trace delivered, delivered where it timed out, returned well before
    /// the timeout, or did not time out at all.
    case timeoutMismatch = "timeout-mismatch"
    /// Trapped where the trace did not, or did not trap where it did.
    case trapMismatch = "trap-mismatch"
    /// A call returned another code.
    case wrongReturnCode = "wrong-return-code"
    /// A process ended differently (or not at all, or too early).
    case wrongExit = "wrong-exit"
}

/// One difference between the recorded trace and the adapter's answers.
public struct Divergence: Sendable, Hashable {
    /// What kind of difference.
    public var category: DivergenceCategory
    /// The SEMANTICS.md rule the implementation breaks (e.g. `R-RES-2`).
    public var rule: String
    /// Index of the event in the trace (0-based).
    public var eventIndex: Int
    /// The recorded process id.
    public var pid: UInt64
    /// The call (`receive`, `push_tcp_stream`, …).
    public var call: String
    /// What the trace recorded.
    public var expected: String
    /// What the adapter answered.
    public var got: String
    /// An explanation.
    public var detail: String
    /// True when an earlier divergence explains this one (same process diverged before, or the
    /// message's sender had): it is a consequence, not a first cause.
    public var isConsequence: Bool

    /// Creates a divergence.
    public init(
        category: DivergenceCategory, rule: String, eventIndex: Int, pid: UInt64, call: String,
        expected: String, got: String, detail: String = "", isConsequence: Bool = false
    ) {
        self.category = category
        self.rule = rule
        self.eventIndex = eventIndex
        self.pid = pid
        self.call = call
        self.expected = expected
        self.got = got
        self.detail = detail
        self.isConsequence = isConsequence
    }

    /// A one-line rendering: `event #12 pid 2 receive: lost-message (R-SEND-1): expected …, got …`.
    public var line: String {
        var s = "event #\(eventIndex) pid \(pid) \(call): \(category.rawValue) (\(rule)): expected \(expected), got \(got)"
        if !detail.isEmpty { s += " — " + detail }
        return s
    }
}
