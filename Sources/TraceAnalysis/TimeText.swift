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
