import Foundation
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

#if canImport(Glibc)
import Glibc
#endif

/// The built `luna-trace record` stopped from outside: SIGKILL loses at most the last moment
/// of events; SIGTERM and SIGINT close the trace.
@Suite("crash safety of a recording (the built binary)")
struct CrashSafetyTests {
    /// A guest that records about a thousand events a second until it is stopped.
    static let slowGuest = """
        (module
          (import "lunatic::process" "sleep_ms" (func $sleep (param i64)))
          (memory (export "memory") 1)
          (func (export "_start")
            (loop $again
              (call $sleep (i64.const 1))
              (br $again))))
        """

    static func wallNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Starts `record` of the slow guest; returns the process and the trace path.
    static func startRecording(in dir: URL) throws -> (Process, URL) {
        guard let binary = TraceFixtures.binary else { throw FixtureError("luna-trace not built") }
        let guest = dir.appendingPathComponent("slow.wat")
        try slowGuest.write(to: guest, atomically: true, encoding: .utf8)
        let trace = dir.appendingPathComponent("slow.trace")
        let p = Process()
        p.executableURL = binary
        p.arguments = ["record", guest.path, "-o", trace.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (p, trace)
    }

    /// Waits (up to 60 s) until the trace file holds events: the guest is running.
    static func waitForEvents(_ trace: URL) {
        for _ in 0..<600 {
            if let r = try? TraceReader(path: trace.path), (try? r.next()) != nil { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// How many events a reader recovers from the file now (the recording goes on).
    static func eventCount(_ trace: URL) -> Int {
        guard let r = try? TraceReader(path: trace.path) else { return 0 }
        var n = 0
        while (try? r.next()) != nil { n += 1 }
        return n
    }

    @Test("SIGKILL: the file holds the events of all but the last moment")
    func sigkill() throws {
        let dir = try TraceFixtures.directory()
        let (p, trace) = try Self.startRecording(in: dir)
        Self.waitForEvents(trace)
        // Waits until the file holds 150 events (however slow a loaded machine makes the guest):
        // all of those, at least, must survive the kill.
        var visible = 0
        for _ in 0..<1_200 where visible < 150 {
            Thread.sleep(forTimeInterval: 0.1)
            visible = Self.eventCount(trace)
        }
        let killedAt = Self.wallNanos()
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let reader = try TraceReader(path: trace.path)
        var last: UInt64 = 0
        while let e = try reader.next() { last = max(last, e.end) }
        guard case .incomplete = reader.stop else {
            Issue.record("a killed recorder's trace should be incomplete, got \(reader.stop)")
            return
        }
        #expect(visible >= 150, "the guest wrote \(visible) events in 120 s")
        #expect(reader.eventsRead >= UInt64(visible), "\(visible) events were in the file before the kill")
        // Event times count from the environment's start, a little after the header's wall
        // clock, so this overestimates the loss; the bound is loose for a loaded machine.
        let lastWall = reader.header.wallClockStartNanos + last
        let lost = Double(Int64(bitPattern: killedAt &- lastWall)) / 1e9
        #expect(lost < 1.0, "the recovered events end \(lost) s before the kill")
    }

    @Test("SIGTERM and SIGINT: the trace is closed, with the host's kill recorded", arguments: [SIGTERM, SIGINT])
    func terminate(signal: Int32) throws {
        let dir = try TraceFixtures.directory()
        let (p, trace) = try Self.startRecording(in: dir)
        Self.waitForEvents(trace)
        Thread.sleep(forTimeInterval: 0.3)
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        #expect(p.terminationStatus == 128 + signal)
        let reader = try TraceReader(path: trace.path)
        var kinds: [EventKind] = []
        while let e = try reader.next() { kinds.append(e.kind) }
        guard case .complete(let summary) = reader.stop else {
            Issue.record("expected a closed trace, got \(reader.stop)")
            return
        }
        #expect(summary.eventCount == UInt64(kinds.count))
        #expect(kinds.contains(.kill))
        #expect(kinds.last == .exit)
    }

    /// A guest whose first process spawns `count` processes blocked forever in receive, then ends.
    static func blockedGuest(_ count: Int) -> String {
        """
        (module
          (import "lunatic::process" "spawn" (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
          (import "lunatic::message" "receive" (func $receive (param i32 i32 i64) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "block")
          (func (export "block") (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1))))
          (func (export "_start") (local $i i32)
            (loop $l
              (drop (call $spawn (i64.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 5)
                                 (i32.const 0) (i32.const 0) (i32.const 16)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const \(count)))))))
        """
    }

    @Test("record kills what still runs after --grace and every exit reaches the trace")
    func graceKills() throws {
        let dir = try TraceFixtures.directory()
        let guest = dir.appendingPathComponent("blocked.wat")
        try Self.blockedGuest(2_000).write(to: guest, atomically: true, encoding: .utf8)
        let trace = dir.appendingPathComponent("blocked.trace")
        let r = try TraceFixtures.runBinary(["record", guest.path, "--grace", "0.2", "-o", trace.path])
        #expect(r.code == 0, "\(r.err)")
        let reader = try TraceReader(path: trace.path)
        var exits = 0, kills = 0
        while let e = try reader.next() {
            if e.kind == .exit { exits += 1 }
            if e.kind == .kill && e.pid == 0 { kills += 1 }
        }
        guard case .complete = reader.stop else {
            Issue.record("expected a closed trace, got \(reader.stop)")
            return
        }
        #expect(exits == 2_001)
        #expect(kills == 2_000)
    }
}
