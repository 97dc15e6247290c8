import Foundation
import LunaRuntime
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// The analyses on events recorded by LunaRuntime itself (native processes, TraceCollector).
@Suite("analyses on LunaRuntime traces")
struct RuntimeLintTests {
    private func lint(_ events: [TraceEvent], nearMiss: UInt64) -> LostMessageLint {
        let lint = LostMessageLint(nearMissWindow: nearMiss)
        for e in events { lint.observe(e) }
        lint.finish()
        return lint
    }

    @Test("a receive that times out just before its message arrives is a near miss (R-RECV-4, R-RECV-5)")
    func nearMiss() async throws {
        let collector = TraceCollector()
        let environment = Environment(trace: collector)
        let waiter = environment.spawn(entry: "waiter") { ctx in
            _ = try await ctx.receive(tags: [9], timeoutMs: 20)
        }
        let late = environment.spawn(entry: "late") { ctx in
            // Send only once the waiter has given up (and ended): an arrival after the timeout.
            _ = await ctx.environment.waitForExit(of: waiter)
            ctx.createData(tag: 9, capacity: 0)
            _ = try ctx.send(to: waiter)
        }
        _ = await environment.waitForExit(of: waiter)
        _ = await environment.waitForExit(of: late)
        let l = lint(collector.events, nearMiss: 5_000_000_000)
        let near = l.findings.filter { $0.category == .nearMiss }
        #expect(near.count == 1)
        #expect(near.first?.pid == waiter)
        #expect(near.first?.text.contains("receive(tags [9], timeout 20ms) timed out") == true)
        // The message reached a process that had already ended.
        #expect(
            l.findings.contains { $0.category == .lostMessage && $0.text.contains("receiver dead (pid \(waiter) ended normal") })
        #expect(lint(collector.events, nearMiss: 1).findings.filter { $0.category == .nearMiss }.isEmpty)
    }

    @Test("a LinkDied message queued and received is followed, not lost (R-PROC-5)")
    func linkDiedMessage() async throws {
        let collector = TraceCollector()
        let environment = Environment(trace: collector)
        let watcher = environment.spawn(entry: "watcher") { ctx in
            try ctx.dieWhenLinkDies(false)
            let child = try ctx.spawn(link: 77, entry: "doomed") { _ in throw LunaTrap(reason: "boom") }
            _ = child
            _ = try await ctx.receive(tags: [], timeoutMs: 10_000)
        }
        _ = await environment.waitForExit(of: watcher)
        #expect(environment.waitUntilAllExited(timeout: 10))
        var lives: [MessageLife] = []
        let tracker = MessageTracker()
        tracker.onLifeEnded = { lives.append($0) }
        for e in collector.events { tracker.observe(e) }
        tracker.finish()
        let notice = try #require(lives.first { $0.isLinkDied })
        #expect(notice.tag == 77)
        #expect(notice.hops.first?.delivery?.receiver == watcher)
        #expect(lint(collector.events, nearMiss: 1).findings.filter { $0.category == .lostMessage }.isEmpty)

        let stats = TraceStatistics()
        for e in collector.events { stats.observe(e) }
        #expect(stats.linkDiedQueued == 1)
        #expect(stats.deaths[ExitCode.failure.rawValue] == 1)
        #expect(stats.longestWaits.first?.pid == watcher)
    }

    @Test("show --last N gives what a process did right before it died")
    func showLast() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["show", file, "--pid", "2", "--last", "4"])
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.last?.contains("exit(status=1:failure)") == true)
        #expect(lines.first?.contains("create_data(tag=1") == true)
    }

    @Test("stats lists the longest waits: who waited on what")
    func longestWaits() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["stats", file])
        #expect(
            r.out.contains(
                "longest waits:\n  pid 2 waited 10.00ms in receive (tags 9) from 0.005500s → timed out\n  pid 2 waited 2.00ms in receive (tags 7) from 0.002500s → got message #1\n"
            ))
    }
}
