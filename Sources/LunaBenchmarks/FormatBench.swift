import ArgumentParser
import Foundation
import LunaSupport
import TraceFormat

/// Benchmarks of the format layer (see docs/BENCHMARKS.md): encode+compress and decode speed and
/// compressed size on a synthetic ping-pong stream.
public struct FormatBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "format", abstract: "Format benchmarks: encode/decode speed and bytes per event.")

    @Option(help: "Number of events.") var events = 1_000_000
    @Option(help: "Time units (ns) to measure; the default header unit is marked.") var timeUnits: [UInt64] = []
    @Option(help: "zstd compression level.") var level = TraceWriter.Options().compressionLevel
    @Option(help: "Events per block.") var eventsPerBlock = TraceWriter.Options().eventsPerBlock
    @Option(help: "Repetitions (best time is reported).") var repeats = 3

    public init() {}

    public func run() throws {
        var model = PingPongModel(seed: 42)
        let stream = model.events(count: events)
        let units = timeUnits.isEmpty ? [TraceHeader.defaultTimeUnitNanos] : timeUnits
        print("ping-pong stream: \(stream.count) events, 2 processes, clock model in PingPongModel")
        for unit in units {
            let r = try measure(stream, unit: unit)
            let mark = unit == TraceHeader.defaultTimeUnitNanos ? " (default)" : ""
            print("time unit \(unit) ns\(mark), level \(level), \(eventsPerBlock) events/block:")
            print(
                String(
                    format: "  encode+compress  %6.2f M events/s  (record() loop %.1f ns/event)",
                    r.encodeRate / 1e6, r.recordNanos))
            let hot = try hotPath(stream, unit: unit)
            print(
                String(
                    format:
                        "  record() alone   %6.1f ns/event   (%.1f ns above a no-op sink; one block, compression outside the timing)",
                    hot.writer, hot.writer - hot.baseline))
            print(
                String(
                    format: "  decode           %6.2f M events/s  (next(into:); %.2f M/s with next())",
                    r.decodeRate / 1e6, r.decodeNextRate / 1e6))
            print(
                String(
                    format: "  size             %6.3f bytes/event  (%d bytes, raw %.2f bytes/event)",
                    r.bytesPerEvent, r.fileBytes, r.rawPerEvent))
        }
    }

    struct Figures {
        var encodeRate = 0.0, recordNanos = Double.infinity, decodeRate = 0.0, decodeNextRate = 0.0
        var bytesPerEvent = 0.0, rawPerEvent = 0.0, fileBytes = 0
    }

    /// The cost of `record` itself: record one block's worth of events (best of many rounds),
    /// then flush outside the timing, so the background compression does not compete.
    func hotPath(_ stream: [TraceEvent], unit: UInt64) throws -> (writer: Double, baseline: Double) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("luna-format-hot-\(getpid()).trace").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = min(stream.count, eventsPerBlock - 1)
        let writer = try TraceWriter(
            path: path, header: TraceHeader(producer: "luna-bench", timeUnitNanos: unit),
            options: TraceWriter.Options(eventsPerBlock: eventsPerBlock, compressionLevel: level))
        let null = NullSink()
        var best = Double.infinity, baseline = Double.infinity
        for round in 0..<60 {
            let from = (round * block) % max(1, stream.count - block)
            for sink in [writer, null] as [any TraceSink] {
                let t0 = MonotonicClock.now()
                stream.withUnsafeBufferPointer { events in
                    for i in from..<(from + block) { sink.record(events[i]) }
                }
                let t1 = MonotonicClock.now()
                let ns = Double(t1 - t0) / Double(block)
                if sink === writer { best = min(best, ns) } else { baseline = min(baseline, ns) }
            }
            try writer.flush()
        }
        try writer.close()
        return (best, baseline)
    }

    func measure(_ stream: [TraceEvent], unit: UInt64) throws -> Figures {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("luna-format-bench-\(getpid()).trace").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var f = Figures()
        let options = TraceWriter.Options(eventsPerBlock: eventsPerBlock, compressionLevel: level)
        for _ in 0..<repeats {
            let writer = try TraceWriter(
                path: path, header: TraceHeader(producer: "luna-bench", timeUnitNanos: unit),
                options: options)
            let t0 = MonotonicClock.now()
            stream.withUnsafeBufferPointer { events in
                for i in events.indices { writer.record(events[i]) }
            }
            let t1 = MonotonicClock.now()
            let summary = try writer.close()
            let t2 = MonotonicClock.now()
            f.encodeRate = max(f.encodeRate, Double(stream.count) / (Double(t2 - t0) / 1e9))
            f.recordNanos = min(f.recordNanos, Double(t1 - t0) / Double(stream.count))
            f.fileBytes = Int(summary.fileBytes)
            f.bytesPerEvent = Double(summary.fileBytes) / Double(stream.count)
            f.rawPerEvent = Double(summary.rawBytes) / Double(stream.count)

            // Decode with the reusing scan (next(into:)) and with plain next().
            for reuse in [true, false] {
                let reader = try TraceReader(path: path)
                let d0 = MonotonicClock.now()
                var n = 0
                var checksum: UInt64 = 0
                if reuse {
                    var e = TraceEvent(kind: .send, pid: 0)
                    while try reader.next(into: &e) {
                        n += 1
                        checksum &+= e.end
                    }
                } else {
                    while let e = try reader.next() {
                        n += 1
                        checksum &+= e.end
                    }
                }
                let d1 = MonotonicClock.now()
                guard n == stream.count, case .complete = reader.stop else {
                    throw ValidationError("decoded \(n) of \(stream.count) events, stop \(reader.stop)")
                }
                if checksum == 42 { print("") }
                let rate = Double(n) / (Double(d1 - d0) / 1e9)
                if reuse { f.decodeRate = max(f.decodeRate, rate) } else { f.decodeNextRate = max(f.decodeNextRate, rate) }
            }
        }
        return f
    }
}

/// A sink that drops events: the cost of the benchmark loop itself (copying each event out of
/// the array and the call), to subtract from `record`'s.
final class NullSink: TraceSink {
    func record(_ event: TraceEvent) {}
}

/// A synthetic ping-pong between processes 1 and 2 with a simple clock model of a release-build
/// runtime: guest code between host calls takes 40–160 ns (1 % of gaps 1–20 µs: preemption,
/// page faults), host calls take their own base cost plus jitter, a receive that has to wait
/// wakes 1–4 µs after the matching send. Each message is a fixed 4-byte body ("ping"/"pong").
struct PingPongModel {
    var rng: Xorshift

    init(seed: UInt64) { rng = Xorshift(state: seed | 1) }

    mutating func jitter(_ base: UInt64, _ spread: UInt64) -> UInt64 { base + rng.next() % spread }

    mutating func gap() -> UInt64 {
        rng.next() % 100 == 0 ? jitter(1_000, 19_000) : jitter(40, 120)
    }

    mutating func events(count: Int) -> [TraceEvent] {
        var out: [TraceEvent] = []
        out.reserveCapacity(count + 10)
        var clock: [UInt64] = [0, 1_000, 1_500]  // per-process "now" (index = pid)
        var receiveStart: [UInt64] = [0, 0, 1_500]
        var message: UInt64 = 0
        let bodies: [[UInt8]] = [Array("ping".utf8), Array("pong".utf8)]
        var turn = 0
        while out.count < count {
            let from = UInt64(turn % 2 + 1), to = UInt64(2 - turn % 2)
            let body = bodies[turn % 2]
            message += 1
            var t = clock[Int(from)]
            func call(_ kind: EventKind, _ pid: UInt64, _ cost: UInt64, _ build: (inout TraceEvent) -> Void) {
                var e = TraceEvent(kind: kind, pid: pid, start: t, end: t + cost)
                build(&e)
                out.append(e)
                t = e.end
            }
            t += gap()
            call(.createData, from, jitter(100, 60)) {
                $0.args = [1, 16]; $0.message = message; $0.result = .value(0)
            }
            t += gap()
            call(.writeData, from, jitter(80, 50)) {
                $0.args = [4]; $0.payload = .bytes(body); $0.result = .value(4)
            }
            t += gap()
            call(.send, from, jitter(200, 150)) {
                $0.args = [Int64(to)]; $0.message = message; $0.result = .value(0)
            }
            let sent = t
            // The receiver's pending receive completes.
            let wake = sent + jitter(1_000, 3_000)
            var r = TraceEvent(
                kind: .receive, pid: to, start: receiveStart[Int(to)], end: wake, args: [-1],
                tags: [1], message: message, result: .value(0))
            r.end = max(r.end, r.start)
            out.append(r)
            t += gap()
            receiveStart[Int(from)] = t  // the sender now waits for the answer
            clock[Int(from)] = t
            var u = wake + gap()
            let read = TraceEvent(
                kind: .readData, pid: to, start: u, end: u + jitter(70, 40), args: [64],
                payload: .bytes(body), result: .value(4))
            out.append(read)
            u = read.end
            clock[Int(to)] = u
            turn += 1
        }
        return Array(out.prefix(count))
    }
}

/// xorshift64*: fast, deterministic, good enough for a clock model.
struct Xorshift {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
}
