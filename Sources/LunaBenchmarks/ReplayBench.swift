import ArgumentParser
import ConformanceKit
import Foundation
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
        let runner = ConformanceRunner(adapter: .init(command: command), replay: .init(callTimeout: 10, traceTimeout: 3600))
        let start = Date()
        let report = runner.run([.events(trace, name: "synthetic-\(events)")])
        let seconds = Date().timeIntervalSince(start)
        guard let outcome = report.outcomes.first, outcome.status == .passed else {
            throw ValidationError("the synthetic trace did not pass:\n" + report.text())
        }
        let ops = Double(outcome.requestCount) / seconds
        print(String(format: "replay: %d events, %d requests in %.2f s: %.0f ops/s (%.0f events/s)",
                     trace.count, outcome.requestCount, seconds, ops, Double(trace.count) / seconds))

        // Lock-step: one request, wait for its answer, repeat (hello does no work).
        let client = try AdapterClient(options: .init(command: command))
        defer { client.terminate() }
        let t0 = Date()
        for _ in 0..<roundTrips {
            let id = client.request("hello", "\"protocol\":1")
            try client.flush()
            guard try client.response(for: id, deadline: .max) != nil else { throw ValidationError("no answer") }
        }
        let lockstep = Date().timeIntervalSince(t0)
        print(String(format: "lock-step round trips (no work): %d in %.2f s: %.0f ops/s",
                     roundTrips, lockstep, Double(roundTrips) / lockstep))
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
