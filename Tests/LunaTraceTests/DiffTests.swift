import Foundation
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

@Suite("diff: the first point where two runs' message flows differ")
struct DiffTests {
    /// A small program: main spawns a worker, sends it a request, waits for the reply. `pidBase`
    /// and `idBase` shift the ids the runtime hands out, `delay` the timing; `replies` false
    /// makes the worker never answer (main's receive times out).
    func run(pidBase: UInt64, delayMs: Double, replies: Bool = true, extraWorker: Bool = false) -> [TraceEvent] {
        var s = ScenarioBuilder()
        let main = pidBase, worker = pidBase + 1
        s.spawn(parent: 0, child: main, entry: "main")
        s.advance(ms: delayMs)
        s.spawn(parent: main, child: worker, entry: "worker")
        if extraWorker { s.spawn(parent: main, child: pidBase + 2, entry: "worker") }
        let request = s.create(main, tag: 5)
        s.write(main, Array("ping".utf8))
        s.send(main, to: worker)
        s.advance(ms: delayMs)
        s.receive(worker, request, tags: [5], waitMs: delayMs)
        if replies {
            let reply = s.create(worker, tag: 6)
            s.write(worker, Array("pong!".utf8))
            s.send(worker, to: main)
            s.receive(main, reply, tags: [6], waitMs: 1 + delayMs)
        } else {
            s.receiveTimeout(main, tags: [6], timeoutMs: 10)
        }
        s.exit(worker, .normal)
        s.exit(main, .normal)
        return s.events
    }

    func files(_ a: [TraceEvent], _ b: [TraceEvent]) throws -> (String, String) {
        let dir = try TraceFixtures.directory()
        let fa = dir.appendingPathComponent("a.trace"), fb = dir.appendingPathComponent("b.trace")
        try TraceFixtures.write(a, to: fa)
        try TraceFixtures.write(b, to: fb)
        return (fa.path, fb.path)
    }

    @Test("other pids, message ids and timing: the same flow, exit 0")
    func sameFlow() throws {
        let (a, b) = try files(run(pidBase: 1, delayMs: 1), run(pidBase: 40, delayMs: 7))
        let r = TraceFixtures.run(["diff", a, b])
        #expect(r.code == 0, "\(r.out)\(r.err)")
        #expect(r.out.hasPrefix("same message flow: 2 processes"))
    }

    @Test("a reply that never comes: the first difference is main's receive, exit 1")
    func timedOut() throws {
        let (a, b) = try files(run(pidBase: 1, delayMs: 1), run(pidBase: 1, delayMs: 1, replies: false))
        let r = TraceFixtures.run(["diff", a, b])
        #expect(r.code == 1)
        let lines = r.out.split(separator: "\n").map(String.init)
        // Main's fifth call (spawn, create, write, send, receive) got the worker's first
        // message in A and timed out in B.
        #expect(lines.first == "first difference: process P1 (A: pid 1, B: pid 1), call 5 of that process")
        #expect(lines.contains("  A: receive tags 6 message P1.1#1 → 0"))
        #expect(lines.contains("  B: receive tags 6 → 9027"))
        #expect(lines.contains("     0.003000s pid 1: receive tags 6 message #2 → 0"))
    }

    @Test("a process only one run has is named, with the side it is missing from")
    func missingProcess() throws {
        let (a, b) = try files(run(pidBase: 1, delayMs: 1), run(pidBase: 1, delayMs: 1, extraWorker: true))
        let r = TraceFixtures.run(["diff", a, b])
        #expect(r.code == 1)
        #expect(r.out.contains("first difference: process P1 (A: pid 1, B: pid 1), call 2 of that process"), "\(r.out)")
        #expect(r.out.contains("B: spawn to P1.2 worker"), "\(r.out)")
    }

    @Test("a trace against itself is the same; an unreadable one is exit 2 naming it")
    func selfAndBad() throws {
        let supervisor = GoldenTests.input("supervisor")
        #expect(TraceFixtures.run(["diff", supervisor, supervisor]).code == 0)
        let dir = try TraceFixtures.directory()
        let junk = dir.appendingPathComponent("junk.trace")
        try Data("not a trace".utf8).write(to: junk)
        let r = TraceFixtures.run(["diff", supervisor, junk.path])
        #expect(r.code == 2)
        #expect(r.err.contains(junk.path))
    }
}
