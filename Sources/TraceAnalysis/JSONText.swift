import TraceFormat

/// Small helpers for writing JSON by hand while streaming.
package enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    package static func string(_ text: String) -> String { JSONString.quoted(text) }

    /// Nanoseconds as a JSON number of microseconds with three decimals (`1234.567`).
    package static func micros(_ ns: UInt64) -> String {
        let frac = String(ns % 1000)
        return "\(ns / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
