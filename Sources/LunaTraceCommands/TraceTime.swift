import ArgumentParser
import TraceAnalysis

/// A point in trace time (nanoseconds since the trace's start), as given on the command line:
/// `1.5s`, `250ms`, `40us`, `900ns`; a bare number is seconds.
package struct TraceTime: ExpressibleByArgument, Sendable, Equatable {
    /// Nanoseconds since the trace's start.
    package var nanoseconds: UInt64

    /// Wraps a nanosecond count.
    package init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Parses `1.5s`, `250ms`, `40us`, `900ns` or a bare number of seconds.
    package init?(argument: String) {
        let text = argument.trimmingCharacters(in: " ")
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)]
        var number = Substring(text)
        var scale = 1e9
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        let ns = (value * scale).rounded()
        guard ns < 1.8e19 else { return nil }
        nanoseconds = UInt64(ns)
    }

    package static var defaultCompletionKind: CompletionKind { .default }

    /// How `--help` shows a default (`50.00ms`).
    package var defaultValueDescription: String { TimeText.duration(nanoseconds) }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
