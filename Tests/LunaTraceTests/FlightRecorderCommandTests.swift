import Foundation
import LunaRuntime
import LunaTestSupport
import Synchronization
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// `--flight-recorder` of `run` and `record`, and how the reading commands treat a window's
/// edge, in process.
@Suite("flight recorder: commands and the window's edge")
struct FlightRecorderCommandTests {
    /// Records into a whole trace and a flight recorder at once, in the same order.
    final class Both: TraceSink {
        let whole: TraceWriter
        let flight: FlightRecorder
        private let order = Mutex(())
        init(_ whole: TraceWriter, _ flight: FlightRecorder) {
            self.whole = whole
            self.flight = flight
        }
        func record(_ event: TraceEvent) {
            order.withLock { _ in
                whole.record(event)
                flight.record(event)
            }
        }
        func record(_ event: EventRecord, payload: UnsafeRawBufferPointer?) {
            order.withLock { _ in
                whole.record(event, payload: payload)
                flight.record(event, payload: payload)
            }
        }
    }

    /// A run whose window starts mid-run: `late_reader` gets five tag-3 messages early, but
    /// reads them only after a tag-7 message at the end; `chatter` sends them, then talks to
    /// itself long enough for the ring to wrap, then sends three tag-5 messages to `sleeper`,
    /// which waits for tag 99 until the host kills it; then the tag-7 message.
    static func windowedRun(in dir: URL) async throws -> (whole: String, window: String) {
        let whole = dir.appendingPathComponent("whole.trace").path, window = dir.appendingPathComponent("window.trace").path
        let header = TraceHeader(producer: "luna-trace tests", wallClockStartNanos: 1)
        let both = Both(
            try TraceWriter(path: whole, header: header),
            FlightRecorder(header: header, options: .init(capacityBytes: 64 << 10)))
        let environment = Environment(trace: both)
        let late = environment.spawn(entry: "late_reader") { ctx in
            _ = try await ctx.receive(tags: [7])
            for _ in 0..<5 { _ = try await ctx.receive(tags: [3]) }
        }
        let sleeper = environment.spawn(entry: "sleeper") { ctx in _ = try await ctx.receive(tags: [99]) }
        let chatter = environment.spawn(entry: "chatter") { ctx in
            for i in 0..<5 {
                ctx.createData(tag: 3, capacity: 8)
                _ = try ctx.writeData([UInt8(i)])
                _ = try ctx.send(to: late)
            }
            for _ in 0..<3_000 {
                ctx.createData(tag: 1, capacity: 4)
                _ = try ctx.writeData([1, 2, 3, 4])
                _ = try ctx.send(to: ctx.id)
                _ = try await ctx.receive(tags: [1])
            }
            for _ in 0..<3 {
                ctx.createData(tag: 5, capacity: 0)
                _ = try ctx.send(to: sleeper)
            }
            ctx.createData(tag: 7, capacity: 0)
            _ = try ctx.send(to: late)
        }
        _ = await environment.waitForExit(of: chatter)
        _ = await environment.waitForExit(of: late)
        environment.killAll()
        _ = await environment.waitUntilAllExited(timeout: nil)
        try both.whole.close()
        try both.flight.close(to: window, trigger: "exit")
        return (whole, window)
    }

    static func events(_ path: String) throws -> (TraceHeader, [TraceEvent]) {
        let reader = try TraceReader(path: path)
        return (reader.header, Array(reader.events()))
    }

    @Test("a window is the whole trace's tail, and lost, stats, flow, show and verify treat its edge right")
    func windowEdge() async throws {
        let dir = try TraceFixtures.directory()
        let (whole, window) = try await Self.windowedRun(in: dir)
        let (_, all) = try Self.events(whole)
        let (header, tail) = try Self.events(window)
        let w = try #require(header.window)
        #expect(w.droppedEvents == UInt64(all.count - tail.count))
        #expect(tail == Array(all.suffix(tail.count)))
        // The early tag-3 messages were created and sent before the window.
        let early = all.filter { $0.kind == .createData && $0.args.at(0) == 3 }.map(\.message)
        try #require(early.count == 5)
        #expect(!tail.contains { early.contains($0.message) && ($0.kind == .createData || $0.kind == .send) })

        // lost: the same findings as over the whole trace (the sleeper's three messages), after a note.
        let lostWhole = TraceFixtures.run(["lost", whole]), lostWindow = TraceFixtures.run(["lost", window])
        #expect(lostWhole.code == 1 && lostWindow.code == 1)
        var lines = lostWindow.out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(
            lines.first?.hasPrefix("note: flight recorder window, written on exit: \(w.droppedEvents) earlier events") == true)
        lines.removeFirst()
        #expect(lines.joined(separator: "\n") == lostWhole.out)
        #expect(lostWhole.out.contains("receiver exited with it still queued"))
        // Without the window's edge known, the same events read as sends to a missing receiver.
        let blind = LostMessageLint()
        for e in tail { blind.observe(e) }
        blind.finish()
        let blindText = StringOutput()
        blind.write(to: blindText)
        #expect(blindText.text.contains("receiver missing") && blindText.text != lines.joined(separator: "\n"))

        let stats = TraceFixtures.run(["stats", window])
        #expect(stats.out.hasPrefix("flight recorder window, written on exit: \(w.droppedEvents) earlier events"))
        // The five early messages, and one of chatter's if the window begins between its send and receive.
        var sentInWindow: Set<MessageID> = []
        var fromBefore = 0
        for e in tail {
            if e.kind == .send { sentInWindow.insert(e.message) }
            if e.kind == .receive, e.message != 0, !sentInWindow.contains(e.message) { fromBefore += 1 }
        }
        #expect(fromBefore >= 5 && stats.out.contains("(\(fromBefore) sent before the window)"))
        #expect(!TraceFixtures.run(["stats", whole]).out.contains("before the window"))

        let flow = TraceFixtures.run(["flow", window, "--message", String(early[0])])
        #expect(flow.code == 0)
        #expect(flow.out.contains("created before the window") && flow.out.contains("received by pid 1 via receive"))

        let show = TraceFixtures.run(["show", window, "--last", "3"])
        #expect(show.out.split(separator: "\n").count == 4)
        #expect(show.out.hasPrefix("# flight recorder window, written on exit: \(w.droppedEvents) earlier events"))
        let jsonl = TraceFixtures.run(["show", window, "--format", "jsonl", "--limit", "1"])
        #expect(jsonl.out.hasPrefix("{") && jsonl.err.contains("flight recorder window"))

        let verify = TraceFixtures.run(["verify", window])
        #expect(
            verify.code == 0 && verify.out.contains("format: \(TraceHeader.currentMajor).\(TraceHeader.currentMinor)")
                && verify.out.contains("flight recorder window, written on exit"))
    }

    static func window(_ path: String) throws -> (TraceWindow, [TraceEvent], TraceStop) {
        let reader = try TraceReader(path: path)
        let events = Array(reader.events())
        return (try #require(reader.header.window), events, reader.stop)
    }

    @Test("run --flight-recorder: the window is written on exit and holds the end of the run")
    func runOnExit() async throws {
        let dir = try TraceFixtures.directory()
        let guest = try FlightGuest.file(in: dir, rounds: 3_000)
        let trace = dir.appendingPathComponent("run.trace").path
        let r = await offPool { TraceFixtures.run(["run", "--flight-recorder", "64k", "-o", trace, guest]) }
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.contains("luna-trace: flight recorder, exit: \(trace) written:"))
        let (w, events, stop) = try Self.window(trace)
        guard case .complete(let summary) = stop else {
            Issue.record("expected a complete trace, got \(stop)")
            return
        }
        #expect(w.trigger == "exit" && w.isPartial && summary.rawBytes <= 64 << 10)
        // Both processes' ends are in it, and the rounds before the window are not.
        #expect(events.filter { $0.kind == .exit }.map(\.pid).sorted() == [1, 2])
        #expect(w.droppedEvents + UInt64(events.count) > 30_000)
        #expect(TraceFixtures.run(["lost", trace]).code == 0)
        #expect(TraceFixtures.run(["verify", trace]).code == 0)
    }

    @Test("record --flight-recorder: a trap of the first process writes the window at once")
    func recordOnTrap() async throws {
        let dir = try TraceFixtures.directory()
        let guest = try FlightGuest.file(in: dir, rounds: 3_000, ending: .traps)
        let trace = dir.appendingPathComponent("trap.trace").path
        let r = await offPool { TraceFixtures.run(["record", guest, "--flight-recorder", "100k", "-o", trace, "--grace", "0"]) }
        #expect(r.code == 1, "\(r.err)")
        #expect(r.err.contains("luna-trace: flight recorder, trap: \(trace) written:"))
        let (w, events, stop) = try Self.window(trace)
        if case .complete = stop {} else { Issue.record("expected a complete trace, got \(stop)") }
        #expect(w.trigger == "trap" && w.isPartial)
        // It ends with the first process's trap; the host's later kill of pong is not in it.
        let exit = try #require(events.last)
        #expect(exit.kind == .exit && exit.pid == 1 && exit.args.at(0) == ExitCode.failure.rawValue)
        #expect(!events.contains { $0.kind == .kill })
    }

    @Test("--flight-recorder sizes: k, M, G are binary; too small, malformed, or without a file is refused")
    func sizesAndMisuse() throws {
        #expect(ByteSize(argument: "65536")?.bytes == 65536)
        #expect(ByteSize(argument: "100k")?.bytes == 102_400)
        #expect(ByteSize(argument: "64M")?.bytes == 64 << 20)
        #expect(ByteSize(argument: "64MiB")?.bytes == 64 << 20)
        #expect(ByteSize(argument: "2gb")?.bytes == 2 << 30)
        for bad in ["", "M", "12x", "-5k", "1.5M", "99999999999999999999G"] { #expect(ByteSize(argument: bad) == nil, "\(bad)") }
        #expect(ByteSize(bytes: 64 << 20).description == "64MiB")

        let dir = try TraceFixtures.directory()
        let guest = try FlightGuest.file(in: dir, rounds: 1)
        let small = TraceFixtures.run(["record", guest, "--flight-recorder", "1k", "-o", dir.appendingPathComponent("x").path])
        #expect(small.code == 64 && small.err.contains("too small"))
        let stdout = TraceFixtures.run(["record", guest, "--flight-recorder", "64k", "-o", "-"])
        #expect(stdout.code == 64 && stdout.err.contains("not standard output"))
        let noFile = TraceFixtures.run(["run", "--flight-recorder", "64k", guest])
        #expect(noFile.code == 64 && noFile.err.contains("needs -o FILE"))
        let unwritable = TraceFixtures.run(["run", "--flight-recorder", "64k", "-o", "/nonexistent-dir/t.trace", guest])
        #expect(unwritable.code == 73 && unwritable.err.contains("cannot create trace"))
    }
}
