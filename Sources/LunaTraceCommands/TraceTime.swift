import ArgumentParser

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

/// Renders nanosecond times and durations for people.
package enum TimeText {
    /// A timestamp as seconds with microsecond precision, e.g. `12.000345s`.
    package static func timestamp(_ ns: UInt64) -> String {
        let seconds = ns / 1_000_000_000
        let micros = (ns % 1_000_000_000) / 1000
        return "\(seconds).\(pad(micros, 6))s"
    }

    /// A duration with a unit that keeps it readable: `850ns`, `12.3µs`, `4.56ms`, `1.234s`.
    package static func duration(_ ns: UInt64) -> String {
        if ns < 1000 { return "\(ns)ns" }
        if ns < 1_000_000 { return decimal(ns, 1000, 1) + "µs" }
        if ns < 1_000_000_000 { return decimal(ns, 1_000_000, 2) + "ms" }
        return decimal(ns, 1_000_000_000, 3) + "s"
    }

    private static func decimal(_ value: UInt64, _ unit: UInt64, _ digits: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        var whole = value / unit
        var fraction = ((value % unit) * scale + unit / 2) / unit
        if fraction == scale { whole += 1; fraction = 0 }
        return "\(whole).\(pad(fraction, digits))"
    }

    private static func pad(_ value: UInt64, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
