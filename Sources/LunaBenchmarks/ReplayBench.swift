import ArgumentParser
import ConformanceKit
import Foundation
import LunaSupport
import TraceFormat

/// Benchmarks of the replay layer (see docs/BENCHMARKS.md): replay ops/s through an adapter on
/// a long synthetic trace, and lock-step request/response over the same pipe for comparison.
public struct ReplayBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay ops/s through the built-in adapter on a 1M-event trace, and lock-step round trips.")

    /// Events in the synthetic trace.
    @Option(help: "Events in the synthetic trace.")
    public var events: Int = 1_000_000

    /// Lock-step round trips to time.
    @Option(name: .customLong("round-trips"), help: "Lock-step request/response round trips to time.")
    public var roundTrips: Int = 100_000

    /// The adapter command (default: luna-conform adapter next to this program).
    @Option(help: "Adapter command line (default: the built-in adapter of the luna-conform next to luna-bench).")
    public var adapter: String?

    public init() {}

    public func run() throws {
        let command = adapter.map { $0.split(separator: " ").map(String.init) } ?? [Self.siblingLunaConform(), "adapter"]
        let trace = Self.syntheticTrace(events: events)
        let (requests, seconds) = try Self.timeReplay(trace, command: command)
        print(
            String(
                format: "replay: %d events, %d requests in %.2f s: %.0f ops/s (%.0f events/s)",
                trace.count, requests, seconds, Double(requests) / seconds, Double(trace.count) / seconds))
        let lockstep = try Self.timeLockStep(roundTrips, command: command)
        print(
            String(
                format: "lock-step round trips (no work): %d in %.2f s: %.0f ops/s",
                roundTrips, lockstep, Double(roundTrips) / lockstep))
    }

    /// Replays `trace` through the adapter `command`; returns the requests sent and the seconds
    /// taken. Throws when the trace does not pass.
    static func timeReplay(_ trace: [TraceEvent], command: [String]) throws -> (requests: Int, seconds: Double) {
        let runner = ConformanceRunner(adapter: .init(command: command), replay: .init(callTimeout: 10, traceTimeout: 3600))
        let t0 = MonotonicClock.now()
        let report = runner.run([.events(trace, name: "synthetic-\(trace.count)")])
        let seconds = Measure.seconds(since: t0)
        guard let outcome = report.outcomes.first, outcome.status == .passed else {
            throw ValidationError("the synthetic trace did not pass:\n" + report.text())
        }
        return (outcome.requestCount, seconds)
    }

    /// Lock-step: one `hello` request (no work), wait for its answer, `count` times; returns
    /// the seconds taken.
    static func timeLockStep(_ count: Int, command: [String]) throws -> Double {
        let client = try AdapterClient(options: .init(command: command))
        defer { client.terminate() }
        let t0 = MonotonicClock.now()
        for _ in 0..<count {
            let id = client.request("hello", "\"protocol\":1")
            try client.flush()
            guard try client.response(for: id, deadline: .max) != nil else { throw ValidationError("no answer to hello") }
        }
        return Measure.seconds(since: t0)
    }

    /// Two processes; the first sends tagged 8-byte messages, the second receives each with a
    /// tag set, reads it and asks its size: six message calls per message.
    static func syntheticTrace(events: Int) -> [TraceEvent] {
        var out: [TraceEvent] = [
            TraceEvent(kind: .spawn, pid: 0, args: [1, 0, -1, -1], result: .value(0)),
            TraceEvent(kind: .spawn, pid: 0, args: [2, 0, -1, -1], result: .value(0)),
        ]
        out.reserveCapacity(events + 8)
        var message: MessageID = 0
        while out.count + 6 <= events - 2 {
            message += 1
            let tag = Int64(message % 7 + 1)
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: Int(message) &+ $0) }
            out.append(TraceEvent(kind: .createData, pid: 1, args: [tag, 8], message: message))
            out.append(TraceEvent(kind: .writeData, pid: 1, args: [8], payload: .bytes(bytes), result: .value(8)))
            out.append(TraceEvent(kind: .send, pid: 1, args: [2], message: message, result: .value(0)))
            out.append(TraceEvent(kind: .receive, pid: 2, args: [-1], tags: [tag], message: message, result: .value(0)))
            out.append(TraceEvent(kind: .readData, pid: 2, args: [8], payload: .bytes(bytes), result: .value(8)))
            out.append(TraceEvent(kind: .dataSize, pid: 2, result: .value(8)))
        }
        out.append(TraceEvent(kind: .exit, pid: 1, args: [0]))
        out.append(TraceEvent(kind: .exit, pid: 2, args: [0]))
        return out
    }

    static func siblingLunaConform() -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (me as NSString).deletingLastPathComponent + "/luna-conform"
    }
}
