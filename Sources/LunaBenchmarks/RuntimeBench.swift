import ArgumentParser
import Foundation
import LunaRuntime
import LunaSupport
import TraceFormat

/// Benchmarks of the runtime layer (see docs/BENCHMARKS.md): native message throughput,
/// ping-pong latency, spawn rate, memory per idle process, and tracing overhead per event.
public struct RuntimeBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "runtime", abstract: "Runtime benchmarks: messages/s, round trips/s, spawns/s, memory, tracing cost.")

    @Option(help: "Messages for the one-way benchmark.") var messages = 2_000_000
    @Option(help: "Round trips for the ping-pong benchmark.") var roundTrips = 500_000
    @Option(help: "Processes for the spawn-rate benchmark.") var spawns = 200_000
    @Option(help: "Idle processes for the memory benchmark (native; thread processes use a tenth).")
    var idle = 20_000
    @Option(help: "Repetitions (the best figure is reported).") var repeats = 3

    public init() {}

    public func run() throws {
        print("runtime benchmarks (release build expected); best of \(repeats)")
        // Memory first, while the heap holds nothing freed that new processes could reuse (thread
        // stacks are unmapped when the threads end, so they go first).
        let threadCount = max(100, idle / 10)
        let threadBytes = idleMemory(count: threadCount, thread: true)
        print(
            String(
                format:
                    "  memory per idle thread process  %8.0f bytes resident (%d processes; stack reserved 8 MiB virtual each)",
                threadBytes, threadCount))
        let nativeBytes = idleMemory(count: idle, thread: false)
        print(
            String(format: "  memory per idle native process  %8.0f bytes (%d processes blocked in receive)", nativeBytes, idle))
        let oneWay = try best { try oneWayRate(count: messages, trace: nil) }
        print(String(format: "  native one-way messages     %8.2f M msg/s   (8-byte messages, goal >= 6M)", oneWay / 1e6))
        let pingPong = try best { try pingPongRate(count: roundTrips, trace: nil, skipSearch: false) }
        print(String(format: "  native ping-pong (receive)  %8.2f M round trips/s (goal >= 1M)", pingPong / 1e6))
        let pingPongSkip = try best { try pingPongRate(count: roundTrips, trace: nil, skipSearch: true) }
        print(String(format: "  native ping-pong (skip-search) %5.2f M round trips/s", pingPongSkip / 1e6))
        let threadPing = try best { try threadPingPongRate(count: min(roundTrips, 100_000), threadServer: false) }
        print(
            String(
                format: "  thread->native ping-pong    %8.3f M round trips/s (a guest-style thread process pings a native one)",
                threadPing / 1e6))
        let threadThread = try best { try threadPingPongRate(count: min(roundTrips, 100_000), threadServer: true) }
        print(
            String(
                format: "  thread->thread ping-pong    %8.3f M round trips/s (two guest-style thread processes, no wasm)",
                threadThread / 1e6))
        let spawns = best { spawnRate(count: self.spawns) }
        print(String(format: "  native spawn+exit           %8.3f M processes/s", spawns / 1e6))
        try tracingOverhead()
    }

    // MARK: workloads

    /// Best (highest) of `repeats` runs.
    private func best(_ f: () throws -> Double) rethrows -> Double {
        var b = 0.0
        for _ in 0..<max(1, repeats) { b = max(b, try f()) }
        return b
    }

    private static func seconds(_ t0: UInt64) -> Double {
        Double(MonotonicClock.now() - t0) / 1e9
    }

    /// One sender blasts `count` 8-byte messages at one receiver; returns messages per second.
    func oneWayRate(count: Int, trace: (any TraceSink)?) throws -> Double {
        let env = Environment(trace: trace)
        let receiver = env.spawn(entry: "receiver") { p in
            var buffer: UInt64 = 0
            for _ in 0..<count {
                _ = try await p.receive(tags: [], timeoutMs: .max)
                _ = try withUnsafeMutableBytes(of: &buffer) { try p.readData(into: $0) }
            }
        }
        let t0 = MonotonicClock.now()
        env.spawn(entry: "sender") { p in
            for i in 0..<count {
                p.createData(tag: 0, capacity: 8)
                _ = try withUnsafeBytes(of: UInt64(i)) { try p.writeData($0) }
                try p.send(to: receiver)
                if i & 1023 == 1023 { await Task.yield() }  // let the receiver drain
            }
        }
        guard env.waitForExitBlocking(of: receiver, timeout: 120) == .normal else {
            throw ValidationError("one-way benchmark did not finish")
        }
        let t = Self.seconds(t0)
        _ = env.waitUntilAllExited(timeout: 10)
        return Double(count) / t
    }

    /// Two native processes exchange `count` request/reply pairs; returns round trips per second.
    func pingPongRate(count: Int, trace: (any TraceSink)?, skipSearch: Bool) throws -> Double {
        let env = Environment(trace: trace)
        let server = env.spawn(entry: "pong") { p in
            var value: UInt64 = 0
            for _ in 0..<count {
                _ = try await p.receive(tags: [], timeoutMs: .max)
                let tag = try p.getTag()
                _ = try withUnsafeMutableBytes(of: &value) { try p.readData(into: $0) }
                p.createData(tag: tag, capacity: 8)
                _ = try withUnsafeBytes(of: value &+ 1) { try p.writeData($0) }
                try p.send(to: 2)
            }
        }
        let t0 = MonotonicClock.now()
        let client = env.spawn(entry: "ping") { p in
            var value: UInt64 = 0
            for _ in 0..<count {
                p.createData(tag: skipSearch ? 1 : 0, capacity: 8)
                _ = try withUnsafeBytes(of: value) { try p.writeData($0) }
                if skipSearch {
                    _ = try await p.sendReceiveSkipSearch(to: server, timeoutMs: .max)
                } else {
                    try p.send(to: server)
                    _ = try await p.receive(tags: [], timeoutMs: .max)
                }
                _ = try withUnsafeMutableBytes(of: &value) { try p.readData(into: $0) }
            }
        }
        precondition(client == 2)
        guard env.waitForExitBlocking(of: client, timeout: 120) == .normal else {
            throw ValidationError("ping-pong benchmark did not finish")
        }
        let t = Self.seconds(t0)
        _ = env.waitUntilAllExited(timeout: 10)
        return Double(count) / t
    }

    /// A thread process (as a WebAssembly guest runs) pings a native or another thread process.
    func threadPingPongRate(count: Int, threadServer: Bool) throws -> Double {
        let env = Environment()
        let server =
            threadServer
            ? env.spawnThread(entry: "pong") { p in
                for _ in 0..<count {
                    _ = try p.receiveBlocking(tags: [], timeoutMs: .max)
                    p.createData(tag: 0, capacity: 8)
                    try p.send(to: 2)
                }
            }
            : env.spawn(entry: "pong") { p in
                for _ in 0..<count {
                    _ = try await p.receive(tags: [], timeoutMs: .max)
                    p.createData(tag: 0, capacity: 8)
                    try p.send(to: 2)
                }
            }
        let t0 = MonotonicClock.now()
        let client = env.spawnThread(entry: "ping") { p in
            for _ in 0..<count {
                p.createData(tag: 0, capacity: 8)
                try p.send(to: server)
                _ = try p.receiveBlocking(tags: [], timeoutMs: .max)
            }
        }
        guard env.waitForExitBlocking(of: client, timeout: 120) == .normal else {
            throw ValidationError("thread ping-pong benchmark did not finish")
        }
        let t = Self.seconds(t0)
        _ = env.waitUntilAllExited(timeout: 10)
        return Double(count) / t
    }

    /// A native parent spawns `count` children that return at once; processes per second
    /// from the first spawn until every child has ended.
    func spawnRate(count: Int) -> Double {
        let env = Environment()
        let t0 = MonotonicClock.now()
        env.spawn(entry: "spawner") { p in
            for i in 0..<count {
                try p.spawn(entry: "child") { _ in }
                if i & 255 == 255 { await Task.yield() }
            }
        }
        _ = env.waitUntilAllExited(timeout: 120)
        return Double(count + 1) / Self.seconds(t0)
    }

    /// Resident bytes per process of `count` processes blocked in receive.
    func idleMemory(count: Int, thread: Bool) -> Double {
        let env = Environment()
        let before = Self.residentBytes()
        var pids: [ProcessID] = []
        pids.reserveCapacity(count)
        for _ in 0..<count {
            if thread {
                pids.append(env.spawnThread(entry: "idle") { p in _ = try p.receiveBlocking(tags: [], timeoutMs: .max) })
            } else {
                pids.append(env.spawn(entry: "idle") { p in _ = try await p.receive(tags: [], timeoutMs: .max) })
            }
        }
        // Wait until every process has started and blocked.
        Thread.sleep(forTimeInterval: thread ? 1.0 : 0.3)
        let after = Self.residentBytes()
        for pid in pids { env.kill(pid) }
        _ = env.waitUntilAllExited(timeout: 60)
        return Double(after - before) / Double(count)
    }

    static func residentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = s.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    // MARK: tracing overhead

    /// The same ping-pong untraced, traced into a TraceCollector, and traced into a real
    /// TraceWriter (zstd file), all in one run; overhead per recorded event.
    func tracingOverhead() throws {
        let n = min(roundTrips, 200_000)
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("luna-runtime-bench-\(getpid()).trace").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var untraced = Double.infinity, collectorTime = Double.infinity, writerTime = Double.infinity
        var nullTime = Double.infinity
        var events = 0
        for _ in 0..<max(1, repeats) {
            untraced = min(untraced, 1 / (try pingPongRate(count: n, trace: nil, skipSearch: false)))
            let collector = TraceCollector()
            collectorTime = min(collectorTime, 1 / (try pingPongRate(count: n, trace: collector, skipSearch: false)))
            events = collector.count
            let writer = try TraceWriter(path: path, header: TraceHeader(producer: "luna-bench runtime"))
            writerTime = min(writerTime, 1 / (try pingPongRate(count: n, trace: writer, skipSearch: false)))
            _ = try writer.close()
            nullTime = min(nullTime, 1 / (try pingPongRate(count: n, trace: DiscardingSink(), skipSearch: false)))
        }
        let perEvent = Double(n) / Double(max(events, 1))  // seconds per round trip -> per event
        func overhead(_ t: Double) -> Double { (t - untraced) * 1e9 * perEvent }
        print(
            String(
                format: "  tracing: %d events per ping-pong of %d round trips (%.1f per round trip)",
                events, n, Double(events) / Double(n)))
        print(String(format: "  tracing overhead, TraceWriter (zstd file)  %6.1f ns/event (goal <= 30)", overhead(writerTime)))
        print(String(format: "  tracing overhead, TraceCollector (memory)  %6.1f ns/event", overhead(collectorTime)))
        print(
            String(
                format: "  tracing overhead, runtime side only        %6.1f ns/event (a sink that discards)", overhead(nullTime)))
        print(String(format: "  untraced round trip %.0f ns; traced into TraceWriter %.0f ns", untraced * 1e9, writerTime * 1e9))
        let parts = try Self.tracingParts(events: 150_000, path: path)
        print(
            String(
                format:
                    "  parts (one thread, best of 5 rounds): trace clock read %.1f ns; TraceWriter.record, lock + encode only:"
                    + " a write_data-like EventRecord %.1f ns, a send-like TraceEvent %.1f ns; with zstd keeping up"
                    + " (blocks of 16k events, compressed on the writer's thread) %.1f ns",
                parts.clock, parts.record, parts.event, parts.compressed))
    }

    /// The pieces of a traced call, each timed alone on one thread (best of 5): reading the
    /// trace clock; `TraceWriter.record` of a write_data-like `EventRecord` and of a send-like
    /// `TraceEvent` into one big block (lock and encoding only: no hand-off during the loop);
    /// and the EventRecord again with the default blocks, so the loop waits for zstd.
    static func tracingParts(
        events: Int, path: String
    ) throws
        -> (clock: Double, record: Double, event: Double, compressed: Double)
    {
        let env = Environment()
        var sum: UInt64 = 0
        func timed(_ body: () throws -> Void) rethrows -> Double {
            var best = Double.infinity
            for _ in 0..<5 {
                let t0 = MonotonicClock.now()
                try body()
                best = min(best, Double(MonotonicClock.now() - t0) / Double(events))
            }
            return best
        }
        let clock = timed { for _ in 0..<events { sum &+= env.now() } }
        precondition(sum != 1)
        func writer(_ eventsPerBlock: Int) throws -> TraceWriter {
            try TraceWriter(
                path: path, header: TraceHeader(producer: "luna-bench parts"),
                options: .init(eventsPerBlock: eventsPerBlock))
        }
        func records(into w: TraceWriter) {
            var value: UInt64 = 0
            for i in 0..<events {
                var r = EventRecord(
                    kind: .writeData, pid: UInt64(1 + (i >> 2) & 1), start: UInt64(i) * 40,
                    message: UInt64(i >> 2), result: 8)
                r.append(8)
                value = UInt64(i)
                withUnsafeBytes(of: &value) { w.record(r, payload: $0) }
            }
        }
        // One big block per round, flushed between rounds (untimed); the first two rounds warm
        // the writer's spare buffers, as in a steady run.
        func timedRounds(_ w: TraceWriter, _ body: () -> Void) throws -> Double {
            var best = Double.infinity
            for round in 0..<7 {
                let t0 = MonotonicClock.now()
                body()
                let t = Double(MonotonicClock.now() - t0) / Double(events)
                try w.flush()
                if round >= 2 { best = min(best, t) }
            }
            return best
        }
        var w = try writer(events + 1)
        let record = try timedRounds(w) { records(into: w) }
        var args = EventArguments()
        args.append(2)
        let event = try timedRounds(w) {
            for i in 0..<events {
                w.record(
                    TraceEvent(
                        kind: .send, pid: UInt64(1 + (i >> 2) & 1), start: UInt64(i) * 40, args: args,
                        message: UInt64(i >> 2), result: .value(0)))
            }
        }
        _ = try w.close()
        w = try writer(16_384)
        let compressed = timed { records(into: w) }
        _ = try w.close()
        return (clock, record, event, compressed)
    }
}

/// A sink that drops every event: isolates the runtime's own cost of tracing.
final class DiscardingSink: TraceSink {
    func record(_ event: TraceEvent) {}
    func record(_ event: EventRecord, payload: UnsafeRawBufferPointer?) {}
}
