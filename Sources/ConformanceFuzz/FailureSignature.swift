import ConformanceKit

/// What a failing replay is "the same failure" by: the first divergence's category and rule,
/// or the kind of adapter failure when the adapter itself broke.
public struct FailureSignature: Hashable, Sendable, CustomStringConvertible {
    /// `wrong-resource-index`, …, or `adapter-crashed`, `adapter-hung`, ….
    public var category: String
    /// The SEMANTICS.md rule, or "" for adapter failures.
    public var rule: String

    /// Creates a signature.
    public init(category: String, rule: String) {
        self.category = category
        self.rule = rule
    }

    /// The signature of a failed outcome; nil when it passed or was skipped.
    public init?(_ outcome: TraceOutcome) {
        guard outcome.status == .failed else { return nil }
        if let d = outcome.firstCauses.first ?? outcome.divergences.first {
            self.init(category: d.category.rawValue, rule: d.rule)
        } else if let f = outcome.adapterFailure {
            self.init(category: "adapter-" + f.kind.rawValue, rule: "")
        } else {
            self.init(category: "unreadable", rule: "")
        }
    }

    public var description: String { rule.isEmpty ? category : "\(category) (\(rule))" }
}
