import Foundation
import Testing

@testable import TraceFormat

/// `TraceSink.record(_:payload:)`, the allocation-free recording path: it must store exactly
/// what recording the equivalent `TraceEvent` stores.
@Suite struct EventRecordTests {
    /// Records covering every field combination the fast path can express.
    static func samples() -> [(EventRecord, [UInt8]?)] {
        var out: [(EventRecord, [UInt8]?)] = []
        let payloads: [[UInt8]?] = [nil, [], [1, 2, 3, 4, 5, 6, 7, 8], Array(repeating: 9, count: 300)]
        var t: UInt64 = 1_000
        for argCount in 0...4 {
            for (i, payload) in payloads.enumerated() {
                for result in [nil, Int64(0), Int64(-9027), Int64.max] as [Int64?] {
                    t += 37
                    var r = EventRecord(
                        kind: [EventKind.writeData, .readData, .createData, .getTag][i],
                        pid: UInt64(1 + argCount % 3), start: t, end: i == 2 ? t + 500 : nil,
                        message: argCount == 1 ? 0 : UInt64(argCount * 10 + i), result: result)
                    for a in 0..<argCount { r.append([Int64(8), -1, Int64.min, 1 << 40][a]) }
                    out.append((r, payload))
                }
            }
        }
        return out
    }

    static func encodeBoth(capture: PayloadCapture, timesInColumn: Bool = true) -> (fast: [UInt8], events: [UInt8]) {
        var fast = BlockEncoder(unit: 1, capacity: 64, timesInColumn: timesInColumn)
        var slow = BlockEncoder(unit: 1, capacity: 64, timesInColumn: timesInColumn)
        for (r, payload) in samples() {
            if let payload {
                payload.withUnsafeBytes { fast.encode(r, payload: $0, capture: capture) }
            } else {
                fast.encode(r, payload: nil, capture: capture)
            }
            if let payload {
                payload.withUnsafeBytes { slow.encode(TraceEvent(r, payload: $0), capture: capture) }
            } else {
                slow.encode(TraceEvent(r, payload: nil), capture: capture)
            }
        }
        let fr = fast.finish(firstEventIndex: 0), sr = slow.finish(firstEventIndex: 0)
        return (fast.bytes(fr), slow.bytes(sr))
    }

    @Test func fastPathWritesTheSameBytesAsTheEquivalentEvent() {
        for capture in [PayloadCapture.full, .digest, .digestAbove(4)] {
            for columns in [false, true] {
                let (fast, events) = Self.encodeBoth(capture: capture, timesInColumn: columns)
                #expect(fast == events, "capture \(capture), times in a column: \(columns)")
            }
        }
    }

    @Test func recordsReadBackAsTheEquivalentEvents() throws {
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let capture = PayloadCapture.digestAbove(100)
        let w = try TraceWriter(
            path: path, header: TraceHeader(producer: "tests", timeUnitNanos: 1),
            options: .init(payloadCapture: capture, eventsPerBlock: 13))
        var expected: [TraceEvent] = []
        for (r, payload) in Self.samples() {
            if let payload {
                payload.withUnsafeBytes { w.record(r, payload: $0) }
            } else {
                w.record(r, payload: nil)
            }
            var e = TraceEvent(r, payload: nil)
            if let payload { e.payload = capture.apply(to: .bytes(payload)) }
            expected.append(e)
        }
        try w.close()
        let (read, stop) = TraceSamples.readAll(try TraceReader(path: path))
        #expect(read == expected)
        guard case .complete = stop else { Issue.record("expected a complete trace, got \(stop)"); return }
    }

    @Test func defaultImplementationRecordsTheEquivalentEvent() {
        let collector = TraceCollector()
        let sink: any TraceSink = collector
        var r = EventRecord(kind: .readData, pid: 4, start: 10, end: 12, message: 7, result: 3)
        r.append(8)
        [UInt8]([1, 2, 3]).withUnsafeBytes { sink.record(r, payload: $0) }
        sink.record(EventRecord(kind: .createData, pid: 4, start: 13), payload: nil)
        #expect(
            collector.events == [
                TraceEvent(
                    kind: .readData, pid: 4, start: 10, end: 12, args: [8], message: 7, payload: .bytes([1, 2, 3]),
                    result: .value(3)),
                TraceEvent(kind: .createData, pid: 4, start: 13),
            ])
    }

    @Test func concurrentRecordersKeepEachThreadsOrder() throws {
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try TraceWriter(
            path: path, header: TraceHeader(producer: "tests", timeUnitNanos: 1),
            options: .init(eventsPerBlock: 512, maxPendingBlocks: 1))
        let threads = 4, perThread = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread {
                var r = EventRecord(kind: .send, pid: UInt64(t + 1), start: UInt64(i), result: 0)
                r.append(Int64(i))
                w.record(r, payload: nil)
            }
        }
        try w.close()
        var next = [Int64](repeating: 0, count: threads)
        var total = 0
        for e in try TraceReader(path: path).events() {
            let t = Int(e.pid) - 1
            #expect(e.args.first == next[t])
            next[t] += 1
            total += 1
        }
        #expect(total == threads * perThread)
    }

    @Test func timesSurviveRunsAndSwitchesOfProcesses() throws {
        // The encoder keeps the latest process's end time out of its table while that process
        // records in a row; runs of every length, returns to earlier pids, and block cuts.
        var rng = SystemRandomNumberGenerator()
        var events: [TraceEvent] = []
        var t: UInt64 = 0
        for _ in 0..<2_000 {
            let pid = UInt64.random(in: 1...5, using: &rng)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                t += UInt64.random(in: 0...1_000, using: &rng)
                let end = t + UInt64.random(in: 0...50, using: &rng)
                events.append(TraceEvent(kind: .getTag, pid: pid, start: t, end: end, result: .value(1)))
            }
        }
        let file = try TraceSamples.write(events, options: .init(eventsPerBlock: 97))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let (read, _) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(read == events)
    }

    @Test func lockedSerialisesConcurrentUpdates() {
        let counter = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<50_000 { counter.withLock { $0 += 1 } }
        }
        #expect(counter.withLock { $0 } == 400_000)
    }
}
