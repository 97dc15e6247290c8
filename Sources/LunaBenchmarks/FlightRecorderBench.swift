import Foundation
import LunaSupport
import TraceFormat

/// Flight recorder figures (docs/BENCHMARKS.md, P1): recording into a ring, and the time to dump
/// a full one.
enum FlightRecorderBench {
    /// The ring size of the figures: 64 MiB.
    static let capacityBytes = 64 << 20

    /// A 64 MiB recorder that has already wrapped round once: in the steady state of a long run,
    /// where every chunk's memory has been touched (a fresh ring pays a page fault per 4 KiB of
    /// events first, which `fill` measures).
    static func wrapped() -> FlightRecorder {
        let recorder = FlightRecorder(
            header: TraceHeader(producer: "luna-bench flight"), options: .init(capacityBytes: capacityBytes))
        _ = fill(recorder)
        return recorder
    }

    /// The cost of recording one event on one thread into a TraceWriter (the lock and the copy
    /// into its batch: its background queue encodes and compresses, on another CPU when one is
    /// free; flushed between rounds) and into a wrapped 64 MiB ring (the lock and the encoding):
    /// best of 7 rounds of `events`, the two alternating.
    static func recordCost(events: Int, path: String) throws -> (writerNs: Double, flightNs: Double) {
        let writer = try TraceWriter(
            path: path, header: TraceHeader(producer: "luna-bench flight"),
            options: .init(eventsPerBlock: events + 1))
        let ring = wrapped()
        var writerBest = Double.infinity, flightBest = Double.infinity
        for round in 0..<7 {
            let t0 = MonotonicClock.now()
            records(events, into: writer)
            let w = Measure.seconds(since: t0) * 1e9 / Double(events)
            try writer.flush()
            let t1 = MonotonicClock.now()
            records(events, into: ring)
            let f = Measure.seconds(since: t1) * 1e9 / Double(events)
            if round >= 1 {  // the first round warms the writer's buffers
                writerBest = min(writerBest, w)
                flightBest = min(flightBest, f)
            }
        }
        _ = try writer.close()
        return (writerBest, flightBest)
    }

    /// Records `count` write_data-like events (8-byte payloads, two processes).
    static func records(_ count: Int, into sink: some TraceSink) {
        var value: UInt64 = 0
        for i in 0..<count {
            var r = EventRecord(
                kind: .writeData, pid: UInt64(1 + (i >> 2) & 1), start: UInt64(i) * 40,
                message: UInt64(i >> 2), result: 8)
            r.append(8)
            value = UInt64(i)
            withUnsafeBytes(of: &value) { sink.record(r, payload: $0) }
        }
    }

    /// Records write_data-like events (8-byte payloads, two processes) into `recorder` until it
    /// has dropped some; returns ns per event (one thread: the lock and the encoding).
    static func fill(_ recorder: FlightRecorder) -> Double {
        let before = recorder.droppedEvents
        var i = 0
        let t0 = MonotonicClock.now()
        while recorder.droppedEvents == before {
            records(65_536, into: recorder)
            i += 65_536
        }
        return Measure.seconds(since: t0) * 1e9 / Double(i)
    }

    /// Fills a fresh ring until it wraps (first touch of its memory), fills it round once more
    /// (steady state), then dumps it to `path`.
    static func fullRingDump(path: String) throws -> (freshNs: Double, steadyNs: Double, dump: FlightDump) {
        let recorder = FlightRecorder(
            header: TraceHeader(producer: "luna-bench flight"), options: .init(capacityBytes: capacityBytes))
        let fresh = fill(recorder)
        var steady = 0.0
        for _ in 0..<16 { steady += fill(recorder) / 16 }  // 16 chunks: once round the ring
        return (fresh, steady, try recorder.dump(to: path, trigger: "luna-bench"))
    }
}
