import ConformanceKit

/// A divergence cause of the adapter under test that is known and still open, as `fuzz
/// --known-causes FILE` lists them: a workload whose first cause matches one (and whose trace
/// the reference adapter replays cleanly) is reported as that cause, not as a failure, so that
/// a CI run can fuzz an adapter with open bugs and still fail on anything new.
///
/// A line of the file is `LABEL CATEGORY RULE CALL`, separated by blanks: the label names the
/// cause in reports (for example its row in docs/FUZZING.md), the category and rule are those
/// of the first divergence (`wrong-exit R-PROC-2`), and the call is the event's call name
/// (`kill`), or `*` for any. An adapter failure is written `adapter-hung - *` (any kind of
/// `AdapterFailure.Kind` after `adapter-`). `#` starts a comment.
public struct KnownCause: Hashable, Sendable, CustomStringConvertible {
    /// What reports call it.
    public var label: String
    /// The first divergence's category, or `adapter-KIND`.
    public var category: String
    /// The SEMANTICS.md rule, or `-` for adapter failures.
    public var rule: String
    /// The call of the first divergence, or `*` for any.
    public var call: String

    /// Creates a cause.
    public init(label: String, category: String, rule: String, call: String) {
        self.label = label
        self.category = category
        self.rule = rule
        self.call = call
    }

    public var description: String { "\(label) (\(category) \(rule) \(call))" }

    /// Whether the failed replay `outcome` is this cause.
    public func matches(_ outcome: TraceOutcome) -> Bool {
        guard outcome.status == .failed else { return false }
        if let d = outcome.firstCauses.first ?? outcome.divergences.first {
            return d.category.rawValue == category && d.rule == rule && (call == "*" || d.call == call)
        }
        if let f = outcome.adapterFailure { return category == "adapter-" + f.kind.rawValue }
        return false
    }

    /// The causes listed in `text` (the file's contents); `source` names it in errors.
    public static func parse(_ text: String, source: String) throws(KnownCauseError) -> [KnownCause] {
        var causes: [KnownCause] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields.isEmpty { continue }
            guard fields.count == 4 else {
                throw KnownCauseError(message: "\(source):\(n + 1): expected LABEL CATEGORY RULE CALL, got \"\(line)\"")
            }
            let category = fields[1]
            guard category.hasPrefix("adapter-") || DivergenceCategory(rawValue: category) != nil else {
                throw KnownCauseError(message: "\(source):\(n + 1): unknown category \(category)")
            }
            causes.append(KnownCause(label: fields[0], category: category, rule: fields[2], call: fields[3]))
        }
        return causes
    }
}

/// A known-causes file that cannot be read.
public struct KnownCauseError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
