import Foundation
import LunaTestSupport

@testable import TraceFormat

/// Events and files shared by the format tests.
enum TraceSamples {
    /// One event of every known kind plus an unknown kind, with edge values in every field.
    static var everyKind: [TraceEvent] {
        var out: [TraceEvent] = []
        var t: UInt64 = 1_000
        for (i, kind) in (EventKind.allKnown + [EventKind(rawValue: 60_000), EventKind(rawValue: 255)]).enumerated() {
            var e = TraceEvent(kind: kind, pid: UInt64(i % 3) + 1, start: t, end: t + UInt64(i * 37))
            t += 500
            switch i % 6 {
            case 0: e.args = [0, -1, Int64.min, Int64.max]
            case 1: e.args = [Int64(bitPattern: UInt64.max), 42, -42, 7, 8, 9]  // timeout u64::MAX; spills
            case 2: e.tags = [0, -5, Int64.max, Int64.min]
            case 3: e.payload = .bytes([])
            case 4: e.payload = .digest(size: UInt64.max, xxh64: 0xDEAD_BEEF_0BAD_F00D)
            default: e.text = "entry \"main\"\n ünïcode ✓"
            }
            switch i % 3 {
            case 0: e.result = .value(Int64.min)
            case 1: e.result = .trap("lunatic::message::write_data")
            default: e.result = .none
            }
            e.message = i % 4 == 0 ? 0 : UInt64(i * 1_000_003)
            out.append(e)
        }
        // Extremes of time and identity.
        out.append(TraceEvent(kind: .send, pid: UInt64.max, start: UInt64.max, end: 0, message: UInt64.max))
        out.append(TraceEvent(kind: .receive, pid: 0, start: 0, end: UInt64.max, tags: [1], message: 1))
        out.append(
            TraceEvent(
                kind: .writeData, pid: 2, start: 5, end: 6, args: [1 << 20],
                payload: .bytes((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
                result: .value(1 << 20)))
        return out
    }

    /// A realistic small ping-pong trace between two processes.
    static func pingPong(rounds: Int, startAt: UInt64 = 10_000) -> [TraceEvent] {
        var out: [TraceEvent] = []
        var t = startAt
        var msg: UInt64 = 0
        for r in 0..<rounds {
            for (from, to) in [(UInt64(1), UInt64(2)), (UInt64(2), UInt64(1))] {
                msg += 1
                let tag = Int64(r % 7)
                let body: [UInt8] = Array("ping \(r)".utf8)
                out.append(
                    TraceEvent(
                        kind: .createData, pid: from, start: t, end: t + 120, args: [tag, 16],
                        message: msg, result: .value(0)));
                t += 200
                out.append(
                    TraceEvent(
                        kind: .writeData, pid: from, start: t, end: t + 90, args: [Int64(body.count)],
                        payload: .bytes(body), result: .value(Int64(body.count))));
                t += 150
                out.append(
                    TraceEvent(
                        kind: .send, pid: from, start: t, end: t + 300, args: [Int64(to)],
                        message: msg, result: .value(0)));
                t += 400
                out.append(
                    TraceEvent(
                        kind: .receive, pid: to, start: t - 2_000, end: t, args: [-1], tags: [tag],
                        message: msg, result: .value(0)));
                t += 100
                out.append(
                    TraceEvent(
                        kind: .readData, pid: to, start: t, end: t + 80, args: [64],
                        payload: .bytes(body), result: .value(Int64(body.count))));
                t += 150
            }
        }
        return out
    }

    /// Writes `events` to a fresh temporary file and returns its path and bytes.
    static func write(
        _ events: [TraceEvent], header: TraceHeader = TraceHeader(producer: "tests", timeUnitNanos: 1),
        options: TraceWriter.Options = .init(), close: Bool = true
    ) throws -> (path: String, bytes: [UInt8]) {
        let path = temporaryPath()
        let w = try TraceWriter(path: path, header: header, options: options)
        for e in events { w.record(e) }
        if close { try w.close() } else { try w.flush() }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        if !close { withExtendedLifetime(w) {} }
        return (path, bytes)
    }

    /// A fresh path in the process's scratch directory (removed when the tests end).
    static func temporaryPath(_ ext: String = "trace") -> String {
        Scratch.path("luna", extension: ext)
    }

    /// Every event a reader yields, and how it stopped (a thrown error ends the list).
    static func readAll(_ reader: TraceReader) -> ([TraceEvent], TraceStop) {
        var out: [TraceEvent] = []
        for e in reader.events() { out.append(e) }
        return (out, reader.stop)
    }
}
