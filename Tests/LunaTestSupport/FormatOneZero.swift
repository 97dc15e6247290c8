import Foundation
import TraceFormat

/// Traces in the shape of format 1.0, made from current ones, to test how they are read.
public enum FormatOneZero {
    /// The same calls as format 1.0 recorded them: each skip-search send half and its return
    /// merged into one event at the return's place (args `pid`, `timeout`, `reply`; the return's
    /// result); a send half without a return (its process ended while it waited) left out.
    public static func combinedForm(_ events: [TraceEvent]) -> [TraceEvent] {
        var halves: [ProcessID: TraceEvent] = [:]
        var out: [TraceEvent] = []
        for e in events {
            if e.kind == .sendReceiveSkipSearch, e.result.trapReason == nil {
                halves[e.pid] = e
            } else if e.kind == .sendReceiveSkipSearchReturn, let half = halves.removeValue(forKey: e.pid) {
                out.append(
                    TraceEvent(
                        kind: .sendReceiveSkipSearch, pid: e.pid, start: half.start, end: e.end,
                        args: [half.args.at(0) ?? 0, half.args.at(1) ?? 0, Int64(bitPattern: e.message)],
                        message: half.message, result: e.result))
            } else {
                out.append(e)
            }
        }
        return out
    }

    /// Writes `events` as a file whose header says format 1.0; returns its path.
    public static func write(_ events: [TraceEvent], eventsPerBlock: Int = 4096) throws -> String {
        let path = Scratch.path("luna-1.0", extension: "trace")
        var options = TraceWriter.Options()
        options.eventsPerBlock = eventsPerBlock
        let w = try TraceWriter(
            path: path, header: TraceHeader(producer: "tests", timeUnitNanos: 1, formatMajor: 1, formatMinor: 0), options: options
        )
        for e in events { w.record(e) }
        try w.close()
        return path
    }

    /// Every event a reader of `path` hands out, and how reading stopped.
    public static func read(_ path: String) throws -> (events: [TraceEvent], stop: TraceStop) {
        let reader = try TraceReader(path: path)
        var out: [TraceEvent] = []
        for e in reader.events() { out.append(e) }
        return (out, reader.stop)
    }
}
