import ConformanceKit
import Foundation
import LunaRuntime
import Testing
import TraceFormat

/// Runs recorded by LunaRuntime replay on both adapters: whatever a run did (host kills at its
/// end, self-kills, calls that never returned), its own trace passes.
@Suite("Recordings replay (round trip)")
struct RoundTripTests {
    /// Records `main` as process 1; when it has ended (and `settle` seconds passed), the host
    /// kills every process still running at once, as `luna-trace record`/`run`/`test` do at a
    /// program's end.
    static func recordWithHostKills(
        settle: Double = 0.05,
        _ main: @escaping @Sendable (ProcessContext) async throws -> Void
    ) -> [TraceEvent] {
        let collector = TraceCollector()
        let env = Environment(id: 1, trace: collector)
        let first = env.spawn(entry: "main", main)
        _ = env.waitForExitBlocking(of: first, timeout: 20)
        Thread.sleep(forTimeInterval: settle)
        env.killAll()
        _ = env.waitUntilAllExited(timeout: 20)
        return collector.events
    }

    /// Workers blocked forever in receive when the program ends; the host kills them.
    static func hostKillsLeftovers() -> [TraceEvent] {
        recordWithHostKills { ctx in
            for _ in 0..<3 {
                _ = try ctx.spawn(entry: "worker") { w in
                    _ = try await w.receive(tags: [], timeoutMs: .max)
                }
            }
            // Each worker has started waiting before main ends.
            try await ctx.sleep(ms: 20)
        }
    }

    /// A process that kills itself.
    static func selfKill() -> [TraceEvent] {
        ScenarioTraces.record { ctx in
            ctx.createData(tag: 1, capacity: 0)
            try ctx.kill(ctx.id)
        }
    }

    /// A linked worker blocked in receive when the host kills it: its parent dies from the link.
    static func hostKillCascades() -> [TraceEvent] {
        recordWithHostKills { ctx in
            let parent = try ctx.spawn(entry: "parent") { p in
                _ = try p.spawn(link: 7, entry: "child") { c in
                    _ = try await c.receive(tags: [5], timeoutMs: .max)
                }
                _ = try await p.receive(tags: [], timeoutMs: .max)
            }
            _ = parent
            try await ctx.sleep(ms: 20)
        }
    }

    /// A `send_after` timer delivers a message after the caller made and sent another one.
    static func sendAfter() -> [TraceEvent] {
        ScenarioTraces.record { ctx in
            let receiver = try ctx.spawn(entry: "receiver") { r in
                _ = try await r.receive(tags: [], timeoutMs: .max)
                _ = try await r.receive(tags: [], timeoutMs: .max)
                _ = try await r.receive(tags: [3], timeoutMs: .max)
            }
            ctx.createData(tag: 1, capacity: 0)
            _ = try ctx.writeData(Array("late".utf8))
            _ = try ctx.sendAfter(to: receiver, delayMs: 30)
            ctx.createData(tag: 2, capacity: 0)
            _ = try ctx.writeData(Array("now".utf8))
            _ = try ctx.send(to: receiver)
            ctx.createData(tag: 9, capacity: 0)
            let cancelled = try ctx.sendAfter(to: receiver, delayMs: 60_000)
            _ = try ctx.cancelTimer(cancelled)
            try await ctx.sleep(ms: 60)
            ctx.createData(tag: 3, capacity: 0)
            _ = try ctx.send(to: receiver)
        }
    }

    /// `link` to a missing pid with die_when_link_dies on: the call returns, the process dies.
    static func linkMissing() -> [TraceEvent] {
        ScenarioTraces.record { ctx in
            try ctx.link(tag: 55, to: 1_000_000)
            ctx.createData(tag: 1, capacity: 0)
        }
    }

    /// `link` to a missing pid with die_when_link_dies off, then a selective receive that waits:
    /// the notice's LinkDied message is queued as the receive begins, before the two messages
    /// sent later (the second one ends that receive), so the next receive takes the notice
    /// first (R-PROC-3). The receive is recorded at its return, after both sends.
    static func linkMissingNoticeFirst(timeoutMs: UInt64 = .max) -> [TraceEvent] {
        ScenarioTraces.record { ctx in
            let me = ctx.id
            _ = try ctx.spawn(entry: "sender") { s in
                try await s.sleep(ms: 20)  // the receive below is waiting by then
                s.createData(tag: 0, capacity: 0)
                _ = try s.send(to: me)
                s.createData(tag: 1, capacity: 0)
                _ = try s.send(to: me)
            }
            try ctx.dieWhenLinkDies(false)
            try ctx.link(tag: 4, to: 4242)
            _ = try await ctx.receive(tags: [1], timeoutMs: timeoutMs)
            _ = try await ctx.receive(tags: [], timeoutMs: .max)
        }
    }

    /// Pairs of workers blocked in receive; the main process wakes both, and each answers at
    /// once, so the two answers race to the main process's mailbox. Replay must deliver them in
    /// the trace's order, although each answer is queued behind its worker's receive.
    static func racingReplies() -> [TraceEvent] {
        ScenarioTraces.record { ctx in
            func worker(_ tag: Int64) -> @Sendable (ProcessContext) async throws -> Void {
                { w in
                    _ = try await w.receive(tags: [1], timeoutMs: .max)
                    w.createData(tag: tag, capacity: 0)
                    _ = try w.send(to: ctx.id)
                }
            }
            for round in 0..<25 {
                let a = try ctx.spawn(entry: "a", worker(100 + Int64(round)))
                let b = try ctx.spawn(entry: "b", worker(200 + Int64(round)))
                try await ctx.sleep(ms: 1)  // both are waiting
                for w in [a, b] {
                    ctx.createData(tag: 1, capacity: 0)
                    _ = try ctx.send(to: w)
                }
                _ = try await ctx.receive(tags: [], timeoutMs: .max)
                _ = try await ctx.receive(tags: [], timeoutMs: .max)
            }
        }
    }

    static let traces: [(String, [TraceEvent])] = [
        ("racing-replies", racingReplies()),
        ("host-kills-leftovers", hostKillsLeftovers()),
        ("self-kill", selfKill()),
        ("host-kill-cascades", hostKillCascades()),
        ("send-after", sendAfter()),
        ("link-missing", linkMissing()),
        ("link-missing-notice-first", linkMissingNoticeFirst()),
        // With a finite timeout the receive cannot be sent early: a waiting call that takes
        // nothing lets the notice in at its place instead.
        ("link-missing-notice-first-finite", linkMissingNoticeFirst(timeoutMs: 10_000)),
    ]

    static var sources: [TraceSource] { traces.map { TraceSource.events($0.1, name: $0.0) } }

    @Test("the traces record the host's kills and the blocked receives that never returned")
    func recorded() {
        let events = Self.hostKillsLeftovers()
        #expect(events.filter { $0.kind == .kill && $0.pid == 0 }.count == 3)
        let unfinished = events.filter { $0.kind == .receive && $0.result == .none }
        #expect(unfinished.count == 3, "\(events.map(\.kind))")
    }

    @Test("R-PROC-3: the notice of a missing pid is recorded where the waiting receive began, before later sends")
    func noticeRecordedFirst() {
        let events = Self.linkMissingNoticeFirst()
        let notice = events.firstIndex { $0.kind == .linkDied }
        let firstSend = events.firstIndex { $0.kind == .send }
        let selective = events.firstIndex { $0.kind == .receive }
        #expect(notice != nil && firstSend != nil && selective != nil)
        if let notice, let firstSend, let selective {
            #expect(notice < firstSend && firstSend < selective, "\(events.map(\.kind))")
            // The second receive takes the notice (result 1), not the earlier message.
            #expect(events.last { $0.kind == .receive }?.result.value == 1)
        }
    }

    @Test("the built-in adapter replays them")
    func builtin() {
        let report = TestSupport.replay(Self.sources, TestSupport.builtinAdapter())
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("the Python adapter replays them")
    func python() {
        let report = TestSupport.replay(Self.sources, TestSupport.pythonAdapter)
        #expect(report.allPassed, "\(report.text())")
    }

    /// Writes `requests` to the built-in adapter and returns its answer to `id`.
    static func adapterAnswer(_ requests: [String], id: Int) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.lunaConform)
        p.arguments = ["adapter"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data((requests.joined(separator: "\n") + "\n").utf8))
        var text = ""
        let handle = output.fileHandleForReading
        while !text.contains("{\"id\":\(id),") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        return text.split(separator: "\n").first { $0.hasPrefix("{\"id\":\(id),") }.map(String.init) ?? ""
    }

    @Test("the built-in adapter ends a process killed by a kill queued behind a blocking call")
    func killQueuedBehindReceive() throws {
        let answer = try Self.adapterAnswer(
            [
                #"{"id":1,"op":"hello","protocol":1}"#,
                #"{"id":2,"op":"reset"}"#,
                #"{"id":3,"op":"spawn","parent":0,"link":0}"#,
                #"{"id":4,"op":"spawn","parent":0,"link":0}"#,
                #"{"id":5,"op":"receive","process":1,"tags":[],"timeout_ms":50}"#,
                #"{"id":6,"op":"kill","process":1,"to":2}"#,
                #"{"id":7,"op":"wait_exit","process":2,"timeout_ms":3000}"#,
            ], id: 7)
        #expect(answer.contains(#""exit":"killed""#), "\(answer)")
    }

    @Test("the built-in adapter: a process killing itself gets a return, then ends killed")
    func selfKillAnswers() throws {
        let answer = try Self.adapterAnswer(
            [
                #"{"id":1,"op":"hello","protocol":1}"#,
                #"{"id":2,"op":"reset"}"#,
                #"{"id":3,"op":"spawn","parent":0,"link":0}"#,
                #"{"id":4,"op":"kill","process":1,"to":1}"#,
                #"{"id":5,"op":"wait_exit","process":1,"timeout_ms":3000}"#,
            ], id: 5)
        #expect(answer.contains(#""exit":"killed""#), "\(answer)")
    }
}
