import LunaBenchmarks
import Testing
import TraceFormat

@testable import LunaRuntime

/// Causal order of `send_receive_skip_search` in traces (R-RECV-7/8): its send half is
/// recorded when the request is queued, before the receive that takes it; its return like a
/// receive. Both native (async) and thread (guest) processes.
@Suite("send_receive_skip_search trace order")
struct SkipSearchTraceTests {
    /// For every message some event received, the index of the event that sent it must be lower.
    /// Returns the number of received messages checked.
    @discardableResult
    static func expectEverySendPrecedesItsReceive(
        _ events: [TraceEvent],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Int {
        var sentAt: [MessageID: Int] = [:]
        var checked = 0
        for (i, e) in events.enumerated() {
            switch e.kind {
            case .send where e.result.trapReason == nil && e.message != 0:
                sentAt[e.message] = i
            case .sendReceiveSkipSearch where e.result.trapReason == nil && e.message != 0:
                #expect(
                    e.result.value == nil, "event #\(i) is a format 1.0 combined event",
                    sourceLocation: sourceLocation)
                sentAt[e.message] = i
            case .linkDied where e.args.at(2) == 0 && e.message != 0:
                sentAt[e.message] = i
            case .receive where e.message != 0 && (e.result.value == 0 || e.result.value == 1),
                .sendReceiveSkipSearchReturn where e.message != 0 && e.result.value == 0:
                checked += 1
                let send = sentAt[e.message]
                #expect(
                    send != nil,
                    "event #\(i) (\(e.kind) of pid \(e.pid)) receives message \(e.message), which no earlier event sent",
                    sourceLocation: sourceLocation)
            default:
                break
            }
        }
        return checked
    }

    /// Each return follows its own process's send half, names that half's request, and each
    /// send half has a return (the runs here all finish their calls).
    static func expectHalvesPaired(_ events: [TraceEvent], sourceLocation: SourceLocation = #_sourceLocation) {
        var open: [UInt64: TraceEvent] = [:]
        for (i, e) in events.enumerated() {
            if e.kind == .sendReceiveSkipSearch, e.result.trapReason == nil {
                #expect(e.result == .none && e.args.count == 2, "event #\(i): send half \(e)", sourceLocation: sourceLocation)
                #expect(open[e.pid] == nil, "event #\(i): two send halves without a return", sourceLocation: sourceLocation)
                open[e.pid] = e
            } else if e.kind == .sendReceiveSkipSearchReturn {
                let half = open.removeValue(forKey: e.pid)
                #expect(half != nil, "event #\(i): a return without a send half", sourceLocation: sourceLocation)
                if let half {
                    #expect(e.args.at(2) == Int64(bitPattern: half.message), sourceLocation: sourceLocation)
                    #expect(e.args.at(0) == half.args.at(0) && e.args.at(1) == half.args.at(1), sourceLocation: sourceLocation)
                    #expect(e.start == half.start && e.end >= half.end, sourceLocation: sourceLocation)
                }
            } else if e.pid != 0, open[e.pid] != nil, ![.linkDied, .messageDropped, .resourceDropped].contains(e.kind) {
                Issue.record(
                    "event #\(i) (\(e.kind)) of pid \(e.pid) between a send half and its return",
                    sourceLocation: sourceLocation)
            }
        }
        #expect(open.isEmpty, "send halves without a return: \(open.values.map(\.message))", sourceLocation: sourceLocation)
    }

    @Test("R-RECV-7 causality, native: a skip-search ping-pong records each send before the receive that returns its message")
    func nativePingPong() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let rounds = 30
        // Both sides use only skip-search after the first request: every request and every
        // reply is sent by a send half and taken by a skip-search return (the first request
        // by a receive).
        let pong = env.spawn(entry: "pong") { p in
            _ = try await p.receive(tags: [], timeoutMs: 10_000)
            var from = ProcessID(try p.readData(count: 1)[0])
            for i in 0..<rounds {
                p.createData(tag: 7, capacity: 1)
                _ = try p.writeData([UInt8(p.id)])
                if i == rounds - 1 { _ = try p.send(to: from); return }
                #expect(try await p.sendReceiveSkipSearch(to: from, timeoutMs: 10_000) == 0)
                from = ProcessID(try p.readData(count: 1)[0])
            }
        }
        let ping = env.spawn(entry: "ping") { p in
            for _ in 0..<rounds {
                p.createData(tag: 7, capacity: 1)
                _ = try p.writeData([UInt8(p.id)])
                #expect(try await p.sendReceiveSkipSearch(to: pong, timeoutMs: 10_000) == 0)
                #expect(try p.readData(count: 1) == [UInt8(pong)])
            }
        }
        #expect(await env.waitUntilAllExited(timeout: 30))
        #expect(env.exitStatus(of: ping) == .normal && env.exitStatus(of: pong) == .normal)
        let events = collector.events
        #expect(Self.expectEverySendPrecedesItsReceive(events) == 2 * rounds)
        #expect(events.filter { $0.kind == .sendReceiveSkipSearchReturn }.count == 2 * rounds - 1)
        Self.expectHalvesPaired(events)
    }

    @Test("R-RECV-7 causality, thread processes: blocking skip-search requests and replies are recorded send first")
    func threadPingPong() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let rounds = 30
        let pong = env.spawnThread(entry: "pong") { p in
            for _ in 0..<rounds {
                _ = try p.receiveBlocking(tags: [3], timeoutMs: 10_000)
                let from = ProcessID(try p.readData(count: 1)[0])
                try sendMessage(p, to: from, tag: 3, [1])
            }
        }
        let ping = env.spawnThread(entry: "ping") { p in
            for _ in 0..<rounds {
                p.createData(tag: 3, capacity: 1)
                _ = try p.writeData([UInt8(p.id)])
                #expect(try p.sendReceiveSkipSearchBlocking(to: pong, timeoutMs: 10_000) == 0)
            }
        }
        #expect(await env.waitUntilAllExited(timeout: 30))
        #expect(env.exitStatus(of: ping) == .normal && env.exitStatus(of: pong) == .normal)
        let events = collector.events
        #expect(Self.expectEverySendPrecedesItsReceive(events) == 2 * rounds)
        Self.expectHalvesPaired(events)
    }

    @Test("R-RECV-7 causality, wasm guests: the guest ping-pong's skip-search requests and replies are recorded send first")
    func guestPingPong() throws {
        let collector = TraceCollector()
        let rounds = 20
        _ = try GuestBenchmarks.pingPongRate(roundTrips: rounds, skipSearch: true, trace: collector)
        let events = collector.events
        // warm-up (1 round) + `rounds`, each a request and a reply, plus two stop messages
        #expect(Self.expectEverySendPrecedesItsReceive(events) == 2 * (1 + rounds) + 2)
        #expect(events.filter { $0.kind == .sendReceiveSkipSearchReturn && $0.result == .value(0) }.count == 1 + rounds)
        Self.expectHalvesPaired(events)
    }

    @Test(
        "R-RECV-8 causality: a timed-out skip-search return is recorded before any later send of a matching reply",
        arguments: [false, true])
    func timeoutPrecedesLateReply(blocking: Bool) async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let rounds = 12
        let timeoutMs: UInt64 = 4
        // The server replies about when the client gives up, so replies race the timeouts; each
        // round's request has its own tag, and a client that timed out takes the late reply with
        // a receive before the next round.
        let server = env.spawn(entry: "server") { s in
            for _ in 0..<rounds {
                _ = try await s.receive(tags: [], timeoutMs: 10_000)
                let tag = try s.getTag()
                let from = ProcessID(try s.readData(count: 1)[0])
                try await s.sleep(ms: timeoutMs)
                try sendMessage(s, to: from, tag: tag, [1])
            }
        }
        let client: ProcessID
        if blocking {
            client = env.spawnThread(entry: "client") { p in
                for round in 0..<rounds {
                    let tag = Int64(10 + round)
                    p.createData(tag: tag, capacity: 1)
                    _ = try p.writeData([UInt8(p.id)])
                    if try p.sendReceiveSkipSearchBlocking(to: server, timeoutMs: timeoutMs) == 9027 {
                        #expect(try p.receiveBlocking(tags: [tag], timeoutMs: 10_000) == 0)
                    }
                }
            }
        } else {
            client = env.spawn(entry: "client") { p in
                for round in 0..<rounds {
                    let tag = Int64(10 + round)
                    p.createData(tag: tag, capacity: 1)
                    _ = try p.writeData([UInt8(p.id)])
                    if try await p.sendReceiveSkipSearch(to: server, timeoutMs: timeoutMs) == 9027 {
                        #expect(try await p.receive(tags: [tag], timeoutMs: 10_000) == 0)
                    }
                }
            }
        }
        #expect(await env.waitUntilAllExited(timeout: 60))
        #expect(env.exitStatus(of: client) == .normal && env.exitStatus(of: server) == .normal)
        let events = collector.events
        var tagOf: [MessageID: Int64] = [:]
        for e in events where e.kind == .createData { tagOf[e.message] = e.args.at(0) }
        var timeouts = 0
        for (t, e) in events.enumerated() where e.kind == .sendReceiveSkipSearchReturn && e.result == .value(9027) {
            timeouts += 1
            #expect(e.duration >= timeoutMs * 1_000_000 && e.duration < 2_000_000_000)
            let requestTag = tagOf[MessageID(bitPattern: e.args.at(2) ?? 0)]
            let reply = events.firstIndex {
                $0.kind == .send && $0.pid == server && $0.args.at(0) == Int64(client) && tagOf[$0.message] == requestTag
            }
            #expect(reply.map { $0 > t } ?? false, "the reply to the request timed out at event #\(t) was recorded before it")
        }
        // Each round either took its reply or timed out and received it later.
        #expect(events.filter { $0.kind == .sendReceiveSkipSearchReturn }.count == rounds)
        #expect(events.filter { $0.kind == .receive && $0.pid == client }.count == timeouts)
        Self.expectEverySendPrecedesItsReceive(events)
        Self.expectHalvesPaired(events)
    }

    @Test("R-RECV-8: timeout 0 records the send half and a 9027 return at once")
    func timeoutZero() async throws {
        let collector = TraceCollector()
        let exit = await runNative(trace: collector) { p in
            p.createData(tag: 0, capacity: 0)
            let code = try await p.sendReceiveSkipSearch(to: 999, timeoutMs: 0)
            #expect(code == 9027)
        }
        #expect(exit == .normal)
        let events = collector.events.filter { ![.spawn, .start, .exit].contains($0.kind) }
        #expect(events.map(\.kind) == [.createData, .sendReceiveSkipSearch, .messageDropped, .sendReceiveSkipSearchReturn])
        #expect(events.last?.result == .value(9027))
        Self.expectHalvesPaired(collector.events)
    }

    @Test("R-RECV-8: a skip-search with an empty scratch area records one event, its trap")
    func trapIsOneEvent() async throws {
        let collector = TraceCollector()
        let exit = await runNative(trace: collector) { p in _ = try await p.sendReceiveSkipSearch(to: p.id, timeoutMs: 0) }
        #expect(exit == .failure(reason: "lunatic::message::send_receive_skip_search"))
        let calls = collector.events.filter { $0.kind == .sendReceiveSkipSearch || $0.kind == .sendReceiveSkipSearchReturn }
        #expect(calls.count == 1)
        #expect(calls.first?.result == .trap("lunatic::message::send_receive_skip_search"))
    }
}
