import Testing
import TraceFormat

@testable import LunaRuntime

/// Tracing: one event per call and lifecycle change, in an order consistent with causality.
@Suite struct TraceOrderTests {
    @Test func sendIsRecordedBeforeTheReceiveThatReturnsItsMessage() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let n = 300
        let nativeReceiver = env.spawn { p in
            for _ in 0..<(2 * n) { _ = try await p.receive(tags: [], timeoutMs: 10_000) }
        }
        let threadReceiver = env.spawnThread(entry: "r") { p in
            for _ in 0..<(2 * n) { _ = try p.receiveBlocking(tags: [], timeoutMs: 10_000) }
        }
        for receiverFirst in [true, false] {
            env.spawn { p in
                for i in 0..<n {
                    try sendMessage(p, to: receiverFirst ? nativeReceiver : threadReceiver, tag: 0)
                    try sendMessage(p, to: receiverFirst ? threadReceiver : nativeReceiver, tag: 0)
                    if i % 3 == 0 { await Task.yield() }
                }
            }
        }
        #expect(await env.waitUntilAllExited(timeout: 30))
        let events = collector.events
        var sentAt: [MessageID: Int] = [:]
        var checked = 0
        for (i, e) in events.enumerated() {
            if e.kind == .send { sentAt[e.message] = i }
            if e.kind == .receive, e.result == .value(0) {
                #expect(sentAt[e.message] != nil, "receive of message \(e.message) at \(i) before its send")
                checked += 1
            }
        }
        #expect(checked == 4 * n)
    }

    @Test func aTimedOutReceiveIsRecordedBeforeALaterMatchingSend() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let coordinator = env.spawn { p in
            _ = try await p.receive(tags: [1], timeoutMs: 5000)
            _ = try await p.receive(tags: [1], timeoutMs: 5000)
            for r in [ProcessID(2), 3] { try sendMessage(p, to: r, tag: 5) }
        }
        let receiver = env.spawnThread(entry: "r") { p in
            let first = try p.receiveBlocking(tags: [5], timeoutMs: 20)
            try sendMessage(p, to: coordinator, tag: 1)
            let second = try p.receiveBlocking(tags: [5], timeoutMs: 5000)
            #expect([first, second] == [9027, 0])
        }
        let nativeReceiver = env.spawn { p in
            let first = try await p.receive(tags: [5], timeoutMs: 20)
            try sendMessage(p, to: coordinator, tag: 1)
            let second = try await p.receive(tags: [5], timeoutMs: 5000)
            #expect([first, second] == [9027, 0])
        }
        #expect([receiver, nativeReceiver] == [2, 3])
        #expect(await env.waitUntilAllExited(timeout: 10))
        let events = collector.events
        for r in [receiver, nativeReceiver] {
            let timeout = events.firstIndex { $0.kind == .receive && $0.pid == r && $0.result == .value(9027) }
            let send = events.firstIndex { $0.kind == .send && $0.args.first == Int64(r) }
            #expect(timeout != nil && send != nil)
            if let timeout, let send { #expect(timeout < send) }
        }
    }

    /// Races short receive timeouts against sends: whenever a receive is recorded as timed
    /// out, every matching message recorded as sent before it must already have been received.
    @Test(arguments: [true, false])
    func timeoutsRacingSendsNeverHideASentMessage(threadReceiver: Bool) async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let n = 300
        let receiverBody: @Sendable (ProcessContext) throws -> Void = { p in
            var got = 0
            while got < n { if try p.receiveBlocking(tags: [7], timeoutMs: 1) == 0 { got += 1 } }
        }
        let receiver =
            threadReceiver
            ? env.spawnThread(entry: "r", receiverBody)
            : env.spawn { p in
                var got = 0
                while got < n { if try await p.receive(tags: [7], timeoutMs: 1) == 0 { got += 1 } }
            }
        env.spawnThread(entry: "sender") { p in
            for i in 0..<n {
                try sendMessage(p, to: receiver, tag: 7)
                try sendMessage(p, to: receiver, tag: 8)  // never matches
                if i % 10 == 0 { try p.sleepBlocking(ms: 1) }
            }
        }
        #expect(await env.waitForExit(of: receiver, timeout: 30) == .normal)
        let events = collector.events
        var tagOf: [MessageID: Int64] = [:]
        for e in events where e.kind == .createData { tagOf[e.message] = e.args.first }
        var pending = 0  // tag-7 messages recorded as sent and not yet recorded as received
        var timeouts = 0
        for e in events {
            if e.kind == .send && e.args.first == Int64(receiver) && tagOf[e.message] == 7 { pending += 1 }
            if e.kind == .receive && e.pid == receiver {
                if e.result == .value(0) { pending -= 1 }
                if e.result == .value(9027) {
                    timeouts += 1
                    #expect(pending == 0, "a receive timed out with a matching message already sent")
                }
            }
        }
        #expect(pending == 0)
        _ = timeouts  // how many raced depends on scheduling
    }

    @Test func eachProcessesEventsAppearInProgramOrder() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let echo = env.spawn(entry: "echo") { p in
            for _ in 0..<50 {
                _ = try await p.receive(tags: [], timeoutMs: 10_000)
                let from = ProcessID(try p.readData(count: 1)[0])
                try sendMessage(p, to: from, tag: 2, [1])
            }
        }
        let client = env.spawnThread(entry: "client") { p in
            for _ in 0..<50 {
                p.createData(tag: 2, capacity: 1)
                _ = try p.writeData([UInt8(p.id)])
                _ = try p.sendReceiveSkipSearchBlocking(to: echo, timeoutMs: 10_000)
                _ = try p.dataSize()
            }
        }
        #expect(await env.waitUntilAllExited(timeout: 30))
        let events = collector.events
        let clientKinds = events.filter { $0.pid == client }.map(\.kind)
        let expectedClient =
            [EventKind.start]
            + Array(
                repeating: [EventKind.createData, .writeData, .sendReceiveSkipSearch, .sendReceiveSkipSearchReturn, .dataSize],
                count: 50
            ).flatMap { $0 }
            + [.exit]
        #expect(clientKinds == expectedClient)
        let echoKinds = events.filter { $0.pid == echo }.map(\.kind)
        let expectedEcho =
            [EventKind.start]
            + Array(repeating: [EventKind.receive, .readData, .createData, .writeData, .send], count: 50).flatMap { $0 }
            + [.exit]
        #expect(echoKinds == expectedEcho)
        for pid in [client, echo] {
            let starts = events.filter { $0.pid == pid }.map(\.start)
            #expect(starts == starts.sorted())
        }
    }

    @Test func messageIdsAreFreshAndLifecycleEventsAreRecorded() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let parent = env.spawn(entry: "parent") { p in
            try p.dieWhenLinkDies(false)
            p.createData(tag: 0, capacity: 0)
            p.createData(tag: 0, capacity: 0)
            let child = try p.spawn(link: 8, entry: "child") { _ in throw LunaTrap("child fails") }
            #expect(try await p.receive(tags: [], timeoutMs: 5000) == 1)
            try p.link(tag: 1, to: child)  // already gone
            _ = try await p.receive(tags: [1], timeoutMs: 0)
        }
        #expect(await env.waitForExit(of: parent, timeout: 10) == .normal)
        let events = collector.events
        let created = events.filter { $0.kind == .createData }.map(\.message)
        #expect(created.count == 2 && Set(created).count == 2 && !created.contains(0))
        let notices = events.filter { $0.kind == .linkDied }
        #expect(notices.count == 2)
        #expect(notices.allSatisfy { $0.pid == parent && $0.args.at(2) == 0 && $0.message != 0 })
        #expect(Set(notices.map(\.message)).isDisjoint(with: created))
        let received = events.filter { $0.kind == .receive && $0.result == .value(1) }.map(\.message)
        #expect(received == notices.map(\.message))
        let spawn = events.first { $0.kind == .spawn && $0.pid == parent }
        #expect(spawn?.pid == parent && spawn?.args.at(1) == 8 && spawn?.text == "child")
        let childExit = events.first { $0.kind == .exit && $0.pid != parent }
        #expect(childExit?.args.first == ExitCode.failure.rawValue && childExit?.text == "child fails")
        #expect(events.contains { $0.kind == .start && $0.text == "child" && $0.args.first == Int64(parent) })
        let kinds = events.filter { $0.pid == parent }.map(\.kind)
        #expect(kinds.first == .start && kinds.last == .exit)
    }

    @Test func trappingCallsRecordTheirTrap() async throws {
        let collector = TraceCollector()
        let exit = await runNative(trace: collector) { p in
            p.createData(tag: 0, capacity: 0)
            try p.seekData(10)
            _ = try p.readData(count: 1)
        }
        #expect(exit == .failure(reason: "lunatic::message::read_data"))
        let read = collector.events.first { $0.kind == .readData }
        #expect(read?.result == .trap("lunatic::message::read_data"))
        let exitEvent = collector.events.last
        #expect(exitEvent?.kind == .exit && exitEvent?.args.first == ExitCode.failure.rawValue)
    }

    @Test func timedCallsCarryTheirDuration() async throws {
        let collector = TraceCollector()
        let exit = await runNative(trace: collector) { p in
            _ = try await p.receive(tags: [], timeoutMs: 20)
            try await p.sleep(ms: 20)
        }
        #expect(exit == .normal)
        for kind in [EventKind.receive, .sleepMs] {
            let e = collector.events.first { $0.kind == kind }
            #expect(e != nil && e!.duration >= 20_000_000 && e!.duration < 2_000_000_000)
        }
    }
}
