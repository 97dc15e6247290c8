import Foundation
import LunaRuntime
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// luna-trace on `send_receive_skip_search` as LunaRuntime records it since format 1.1: a send
/// half when the request is queued, then a `send_receive_skip_search_return` (R-RECV-7/8).
@Suite("luna-trace: send_receive_skip_search send half and return")
struct SkipSearchToolsTests {
    /// A native client makes `rounds` skip-search calls to an echo server, then one that times
    /// out; the server answers that one late (after the timeout, 40 ms before the window ends).
    static func record(rounds: Int) async -> (events: [TraceEvent], client: ProcessID, server: ProcessID) {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let server = env.spawn(entry: "server") { s in
            for i in 0...rounds {
                _ = try await s.receive(tags: [], timeoutMs: 10_000)
                let tag = try s.getTag()
                let from = ProcessID(try s.readData(count: 1)[0])
                if i == rounds { _ = try await s.receive(tags: [99], timeoutMs: 10_000) }  // the client gave up
                s.createData(tag: tag, capacity: 0)
                _ = try s.writeData([1, 2])
                _ = try s.send(to: from)
            }
        }
        let client = env.spawn(entry: "client") { p in
            for i in 0...rounds {
                p.createData(tag: 5, capacity: 0)
                _ = try p.writeData([UInt8(p.id)])
                let code = try await p.sendReceiveSkipSearch(to: server, timeoutMs: i == rounds ? 20 : 10_000)
                if i == rounds {
                    #expect(code == 9027)
                    p.createData(tag: 99, capacity: 0)
                    _ = try p.send(to: server)
                    _ = try await p.receive(tags: [5], timeoutMs: 10_000)  // the late reply
                } else {
                    #expect(code == 0)
                }
            }
        }
        _ = await env.waitUntilAllExited(timeout: 30)
        return (collector.events, client, server)
    }

    @Test(
        "flow: each request is sent by the send half at its queue time and received by the server, each reply taken by the return"
    )
    func tracker() async {
        let (events, client, server) = await Self.record(rounds: 5)
        var ended: [MessageID: MessageLife] = [:]
        let tracker = MessageTracker()
        tracker.onLifeEnded = { ended[$0.id] = $0 }
        for e in events { tracker.observe(e) }
        tracker.finish()
        let halves = events.filter { $0.kind == .sendReceiveSkipSearch }
        #expect(halves.count == 6)
        for half in halves {
            let hop = ended[half.message]?.hops.first
            #expect(ended[half.message]?.hops.count == 1)
            #expect(hop?.send?.from == client && hop?.send?.to == server && hop?.send?.at == half.end)
            #expect(hop?.send?.call == .sendReceiveSkipSearch)
            #expect(hop?.delivery?.receiver == server)
            if let send = hop?.send, let d = hop?.delivery { #expect(send.at <= d.receivedAt) }
        }
        let returns = events.filter { $0.kind == .sendReceiveSkipSearchReturn && $0.result == .value(0) }
        #expect(returns.count == 5)
        for r in returns {
            let d = ended[r.message]?.hops.last?.delivery
            #expect(d?.receiver == client && d?.call == .sendReceiveSkipSearch && d?.tagSet == [5])
            #expect(d?.calledAt == r.start && d?.receivedAt == r.end)
        }
        #expect(tracker.processes[client]?.mailboxDepth == 0)
        #expect(tracker.processes[server]?.mailboxDepth == 0)
    }

    @Test("lost: no lost messages; the late reply to the timed-out skip-search is a near miss")
    func lint() async {
        let (events, client, _) = await Self.record(rounds: 3)
        let lint = LostMessageLint(nearMissWindow: 5_000_000_000)
        for e in events { lint.observe(e) }
        lint.finish()
        #expect(lint.counts[.lostMessage] == nil, "\(lint.findings)")
        let nearMiss = lint.findings.filter { $0.category == .nearMiss }
        #expect(nearMiss.count == 1)
        #expect(nearMiss.first?.pid == client)
        #expect(nearMiss.first?.text.contains("send_receive_skip_search(tags [5]") == true, "\(nearMiss)")
    }

    @Test("stats: sends, receives, one timeout, and the longest waits name the call")
    func stats() async {
        let (events, _, _) = await Self.record(rounds: 4)
        let stats = TraceStatistics()
        stats.longestWaitsKept = 20
        for e in events { stats.observe(e) }
        #expect(stats.messagesSent == 5 + 1 + 5)  // client: 5 requests and the tag-99 message; server: 5 replies
        #expect(stats.messagesReceived == 6 + 5)  // server: all 6; client: 4 returns and 1 late receive
        #expect(stats.receiveTimeouts == 1)
        #expect(stats.longestWaits.contains { $0.call == .sendReceiveSkipSearch && $0.result == 9027 && $0.tags == [5] })
        #expect(stats.longestWaits.contains { $0.call == .sendReceiveSkipSearch && $0.result == 0 && $0.message != 0 })
    }

    @Test("chrome: every request's arrow starts at its send half, on the client's track, before its receive")
    func chrome() async throws {
        let (events, client, server) = await Self.record(rounds: 3)
        let out = StringOutput()
        let exporter = ChromeTraceExporter(out: out)
        for e in events { exporter.observe(e) }
        exporter.finish()
        let (json, flows) = try checkChromeDocument(out.text)
        // 4 requests and the tag-99 message (client → server), 3 replies + 1 late reply (server → client)
        #expect(flows.filter { $0.from == client && $0.to == server }.count == 5)
        #expect(flows.filter { $0.from == server && $0.to == client }.count == 4)
        let halfEnds = Set(events.filter { $0.kind == .sendReceiveSkipSearch }.map { Double($0.end) / 1000 })
        let starts = json.filter { $0["ph"] as? String == "s" && $0["tid"] as? Int == Int(client) }
        #expect(starts.count == 5)
        let atHalves = starts.compactMap { $0["ts"] as? Double }.filter { ts in halfEnds.contains { abs($0 - ts) < 0.01 } }
        #expect(
            atHalves.count == 4, "arrows from the client at \(starts.map { $0["ts"] ?? "?" }), send halves ended at \(halfEnds)")
    }

    @Test("mermaid and show: the send half is an arrow, the return a note; show prints the new kind")
    func mermaidAndShow() async {
        let (events, _, _) = await Self.record(rounds: 1)
        let out = StringOutput()
        let mermaid = MermaidExporter(out: out, limit: 100)
        for e in events { mermaid.observe(e) }
        mermaid.finish()
        #expect(out.text.contains("and wait"))
        #expect(out.text.contains("got reply m"))
        #expect(out.text.contains("reply timed out after"))
        let ret = events.first { $0.kind == .sendReceiveSkipSearchReturn && $0.result == .value(9027) }
        #expect(ret.flatMap(EventLineFormatter.result) == "→ 9027 (timeout)")
        #expect(EventKind(name: "send_receive_skip_search_return") == .sendReceiveSkipSearchReturn)
    }
}
