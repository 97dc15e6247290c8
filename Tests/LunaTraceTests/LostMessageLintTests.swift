import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

@Suite("lost: the postmortem lint")
struct LostMessageLintTests {
    private func lint(_ events: [TraceEvent], nearMiss: UInt64 = 50_000_000) -> LostMessageLint {
        let lint = LostMessageLint(nearMissWindow: nearMiss)
        for e in events { lint.observe(e) }
        lint.finish()
        return lint
    }

    private func texts(_ lint: LostMessageLint, _ category: LostMessageLint.Finding.Category) -> [String] {
        lint.findings.filter { $0.category == category }.map(\.text)
    }

    @Test("finds every planted problem, with reasons (R-SEND-2, R-PROC-7, R-RES-7)")
    func plantedProblems() {
        let l = lint(Postmortem.events())
        let lost = texts(l, .lostMessage)
        #expect(lost.count == 4)
        #expect(lost.contains { $0.hasPrefix("message #4") && $0.contains("pid 9 never existed") })
        #expect(lost.contains { $0.hasPrefix("message #5") && $0.contains("receiver dead (pid 3 ended normal") })
        #expect(lost.contains { $0.hasPrefix("message #2") && $0.contains("receiver exited with it still queued") })
        #expect(
            lost.contains {
                $0.hasPrefix("message #6") && $0.contains("receiver exited with it still queued (failure (unreachable)")
            })
        let near = texts(l, .nearMiss)
        #expect(near.count == 1)
        #expect(near.first?.contains("pid 2 receive(tags [9], timeout 10ms) timed out") == true)
        #expect(near.first?.contains("message #2 (tag 9) from pid 1 arrived 3.00ms later") == true)
        let resources = texts(l, .droppedResource)
        #expect(
            resources == ["slot 1 module (pushed by pid 1 as module id 0) never taken: left in message #1 when it was discarded"])
        let queued = texts(l, .queuedAtExit)
        #expect(queued.count == 1)
        #expect(queued.first?.contains("pid 2 ended (failure (unreachable))") == true)
        #expect(queued.first?.contains("with 2 message(s) still in its mailbox") == true)
    }

    @Test("a near miss needs the arrival within the window and a matching tag (R-RECV-2, R-RECV-4)")
    func nearMissWindowAndTags() {
        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "a")
        s.spawn(parent: 0, child: 2, entry: "b")
        s.receiveTimeout(2, tags: [9], timeoutMs: 5)
        s.advance(ms: 20)
        s.create(1, tag: 8)  // wrong tag: not a near miss
        s.send(1, to: 2)
        s.create(1, tag: 9)  // right tag, 20 ms after the timeout
        s.send(1, to: 2)
        #expect(texts(lint(s.events, nearMiss: 10_000_000), .nearMiss).isEmpty)
        let near = texts(lint(s.events, nearMiss: 50_000_000), .nearMiss)
        #expect(near.count == 1)
        #expect(near.first?.contains("message #2 (tag 9)") == true)
    }

    @Test("a selective receive that times out with only other tags queued is reported (R-RECV-2, R-RECV-4)")
    func mismatchedWait() {
        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "a")
        s.spawn(parent: 0, child: 2, entry: "b")
        s.create(1, tag: 2)
        s.send(1, to: 2)
        s.create(1)
        s.send(1, to: 2)
        s.receiveTimeout(2, tags: [1], timeoutMs: 20)
        let waits = texts(lint(s.events), .mismatchedWait)
        #expect(
            waits == [
                "pid 2 receive(tags [1], timeout 20ms) timed out at 0.020000s while 2 message(s) with tags [untagged,2] were queued"
            ])
        // An unselective receive that times out has nothing queued by definition; a receive
        // after the queue was drained is not reported either.
        var t = ScenarioBuilder()
        t.spawn(parent: 0, child: 1, entry: "a")
        t.spawn(parent: 0, child: 2, entry: "b")
        let m = t.create(1, tag: 2)
        t.send(1, to: 2)
        t.receive(2, m, tags: [2])
        t.receiveTimeout(2, tags: [1], timeoutMs: 5)
        #expect(texts(lint(t.events), .mismatchedWait).isEmpty)
    }

    @Test("a clean exchange has no findings")
    func clean() {
        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "a")
        s.spawn(parent: 0, child: 2, entry: "b")
        let m = s.create(1, tag: 1)
        s.push(1, .pushModule, id: 0)
        s.send(1, to: 2)
        s.receive(2, m, waitMs: 1)
        s.take(2, .takeModule, index: 0, newID: 3)
        s.exit(2, .normal)
        s.exit(1, .normal)
        let l = lint(s.events)
        #expect(l.total == 0)
    }

    @Test("a message still queued at the end of the trace is reported as never received")
    func queuedAtEnd() {
        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "a")
        s.spawn(parent: 0, child: 2, entry: "b")
        s.create(1, tag: 1)
        s.send(1, to: 2)
        let lost = texts(lint(s.events), .lostMessage)
        #expect(lost.count == 1)
        #expect(lost.first?.contains("still queued at the end of the trace") == true)
    }
}
