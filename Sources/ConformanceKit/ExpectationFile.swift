import Foundation
import LunaSupport

/// Known failures (`--expect FILE`), as in wasi-testsuite: traces listed there are expected to
/// fail. A listed trace that fails is an expected failure (xfail, not counted as a failure); a
/// listed trace that passes is an unexpected pass (xpass, counted as a failure so the list is
/// kept up to date).
///
/// Format: one trace per line (its path as given to `replay`, a path suffix, or its file name);
/// `#` starts a comment; blank lines are ignored.
public struct ExpectationFile: Sendable {
    /// The listed entries.
    public var entries: [String]

    /// Parses the file's text.
    public init(text: String) {
        entries = text.split(whereSeparator: \.isNewline).compactMap { line in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = content.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        }
    }

    /// Whether the trace named `name` is listed.
    public func expectsFailure(_ name: String) -> Bool {
        entries.contains { entry in
            name == entry || name.hasSuffix("/" + entry) || entry.hasSuffix("/" + name)
                || Paths.baseName(name) == entry
        }
    }

    /// The outcome with its status adjusted for the list.
    public func apply(to outcome: TraceOutcome) -> TraceOutcome {
        guard expectsFailure(outcome.name) else { return outcome }
        var o = outcome
        switch o.status {
        case .failed: o.status = .expectedFailure
        case .passed: o.status = .unexpectedPass
        default: break
        }
        return o
    }
}
