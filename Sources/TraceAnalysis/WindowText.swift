import TraceFormat

/// How the commands say that a trace is a flight recorder's window (`TraceHeader.window`): one
/// wording for `show`, `verify`, `stats` and `lost`.
package enum WindowText {
    /// One line, e.g. `flight recorder window, written on SIGUSR1: 120000 earlier events
    /// (1480000 raw bytes) dropped; the window starts at 1.234567s`.
    package static func line(_ w: TraceWindow) -> String {
        let head = "flight recorder window" + (w.trigger.isEmpty ? "" : ", written on \(w.trigger)")
        guard w.isPartial else { return head + ": no event dropped, the whole recording" }
        return head + ": \(w.droppedEvents) earlier events (\(w.droppedBytes) raw bytes) dropped;"
            + " the window starts at \(TimeText.timestamp(w.startNanos))"
    }
}
