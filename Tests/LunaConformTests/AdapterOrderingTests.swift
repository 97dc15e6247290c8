import ConformanceKit
import Foundation
import LunaTestSupport
import Testing

/// The adapter protocol's synchronous model (docs/ADAPTER_PROTOCOL.md section 2.1) and the
/// ends of processes, driven request by request against both adapters: what the fuzzer found
/// the built-in adapter getting wrong (docs/FUZZING.md, "Known divergences").
@Suite("Adapter protocol: request order and process ends, on both adapters")
struct AdapterOrderingTests {
    static let adapters = ["built-in", "Python"]

    static func command(_ name: String) -> [String] {
        name == "Python" ? TestSupport.pythonAdapter : TestSupport.builtinAdapter()
    }

    /// Runs `body` against a fresh session with `adapter`, on a thread of its own (the session
    /// blocks on the adapter's answers), and expects it to have found no problems.
    static func inSession(
        _ adapter: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: @escaping @Sendable (AdapterSession) throws -> Void
    ) async throws {
        let problems = try await offPool {
            let s = try AdapterSession(Self.command(adapter))
            try body(s)
            return s.problems
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }

    @Test(
        "requests queued behind a blocking call all run before a request sent after its answer",
        arguments: adapters)
    func queuedRunBeforeLaterRequests(_ adapter: String) async throws {
        // Process 1 times out while 1,000 writes wait behind its receive; a kill sent only after
        // the timeout's answer must find them all done (section 2.1 rules 1 and 2).
        try await Self.inSession(adapter) { s in
            let (p1, p2) = (try s.spawn(), try s.spawn())
            let receive = s.send("receive", "\"process\":\(p1),\"tags\":[],\"timeout_ms\":20")
            s.send("create_data", "\"process\":\(p1),\"tag\":1,\"capacity\":0")
            let writes = (0..<1_000).map { _ in s.send("write_data", "\"process\":\(p1),\"hex\":\"00\"") }
            s.expect(try s.answer(receive), .result(.object(["code": .int(9027)])))
            let kill = s.send("kill", "\"process\":\(p2),\"to\":\(p1)")
            s.expect(try s.answer(kill), .result(.null))
            let answers = try writes.map { try s.answer($0) }
            let ended = answers.filter { $0 != .result(.int(1)) }
            s.check(ended.isEmpty, "\(ended.count) of 1000 queued writes did not return 1, first: \(ended.first?.summary ?? "")")
            s.expect(try s.exit(of: p1), "killed")
        }
    }

    @Test(
        "a kill run behind a blocking call ends its victim before the victim's next requests, which are answered",
        arguments: adapters)
    func killRunAfterBlockingCall(_ adapter: String) async throws {
        try await Self.inSession(adapter) { s in
            let (p1, p2, p3) = (try s.spawn(), try s.spawn(), try s.spawn())
            let receive = s.send("receive", "\"process\":\(p1),\"tags\":[],\"timeout_ms\":-1")
            let kill = s.send("kill", "\"process\":\(p1),\"to\":\(p2)")
            s.send("create_data", "\"process\":\(p3),\"tag\":1,\"capacity\":0")
            s.send("send", "\"process\":\(p3),\"to\":\(p1)")
            let later = [
                s.send("create_data", "\"process\":\(p2),\"tag\":1,\"capacity\":0"),
                s.send("send_receive_skip_search", "\"process\":\(p2),\"to\":\(p1),\"timeout_ms\":-1"),
                s.send("receive", "\"process\":\(p2),\"tags\":[],\"timeout_ms\":-1"),
            ]
            let probe = s.send("get_tag", "\"process\":\(p3)")
            s.expect(try s.answer(probe), .trap(reason: "lunatic::message::get_tag", scratch: .null))
            if case .result = try s.answer(receive) {} else { s.fail("the receive did not return its message") }
            s.expect(try s.answer(kill), .result(.null))
            for id in later {
                if case .ended = try s.answer(id) {} else { s.fail("request \(id) of the killed process did not answer `ended`") }
            }
        }
    }

    @Test(
        "send_receive_skip_search waits before the next request starts: a message sent right after it is its reply",
        arguments: adapters)
    func skipSearchWaitsBeforeNextRequest(_ adapter: String) async throws {
        // R-RECV-7: the reply arrives after the call began, so the call takes it. The tag differs
        // each round, so a reply the call missed leaves it waiting for good.
        try await Self.inSession(adapter) { s in
            let (p1, p2) = (try s.spawn(), try s.spawn())
            var calls: [(id: Int64, tag: Int64)] = []
            for round in 1...3_000 {
                s.send("create_data", "\"process\":\(p1),\"tag\":\(round),\"capacity\":0")
                calls.append(
                    (s.send("send_receive_skip_search", "\"process\":\(p1),\"to\":1099511627776,\"timeout_ms\":-1"), Int64(round))
                )
                s.send("create_data", "\"process\":\(p2),\"tag\":\(round),\"capacity\":0")
                s.send("send", "\"process\":\(p2),\"to\":\(p1)")
            }
            for call in calls {
                let a = try s.answer(call.id)
                guard case .result(let r) = a, r["code"]?.int == 0, r["message"]?["tag"]?.int == call.tag else {
                    s.fail("round \(call.tag): expected the reply with tag \(call.tag), got \(a.summary)")
                    return
                }
            }
        }
    }

    @Test(
        "timeouts end in deadline order, each with the requests it released: a later wait gets the message they send",
        arguments: adapters)
    func timeoutsInDeadlineOrder(_ adapter: String) async throws {
        // Process 1's receive times out first and the send queued behind it runs at that moment
        // (section 2.1), before process 2's receive, which started after it with the same
        // timeout, is due: so that receive returns the message, however late the machine runs.
        try await Self.inSession(adapter) { s in
            let (p1, p2) = (try s.spawn(), try s.spawn())
            for round in 1...50 {
                s.send("receive", "\"process\":\(p1),\"tags\":[9999],\"timeout_ms\":2")
                s.send("create_data", "\"process\":\(p1),\"tag\":\(round),\"capacity\":0")
                s.send("send", "\"process\":\(p1),\"to\":\(p2)")
                let receive = s.send("receive", "\"process\":\(p2),\"tags\":[\(round)],\"timeout_ms\":2")
                let a = try s.answer(receive)
                guard case .result(let r) = a, r["code"]?.int == 0, r["message"]?["tag"]?.int == Int64(round) else {
                    s.fail("round \(round): expected the message with tag \(round), got \(a.summary)")
                    return
                }
            }
        }
    }

    @Test(
        "a trap in send_receive_skip_search ends the caller with failure and notifies its links before the next request",
        arguments: adapters)
    func skipSearchTrapNotifiesLinks(_ adapter: String) async throws {
        try await Self.inSession(adapter) { s in
            let parent = try s.spawn()
            let waiting = try s.spawn(parent: parent, link: 5)
            let immediate = try s.spawn(parent: parent, link: 6)
            s.send("die_when_link_dies", "\"process\":\(parent),\"flag\":0")
            for (child, tag, timeout) in [(waiting, Int64(5), -1), (immediate, 6, 0)] {
                // An empty scratch area: the call traps (R-MSG-9), waiting for a reply or not.
                let call = s.send("send_receive_skip_search", "\"process\":\(child),\"to\":\(parent),\"timeout_ms\":\(timeout)")
                let notice = s.send("receive", "\"process\":\(parent),\"tags\":[],\"timeout_ms\":0")
                s.expect(try s.answer(call), .trap(reason: "lunatic::message::send_receive_skip_search", scratch: .null))
                let a = try s.answer(notice)
                guard case .result(let r) = a, r["code"]?.int == 1, r["message"]?["tag"]?.int == tag else {
                    s.fail("timeout \(timeout): expected the LinkDied message with tag \(tag) at once, got \(a.summary)")
                    continue
                }
                s.expect(try s.exit(of: child), "failure")
            }
        }
    }

    @Test(
        "seek_data to an index of 2^63 or more (a negative i64 on the wire) is past the end: the next read traps",
        arguments: adapters)
    func seekPastEveryEnd(_ adapter: String) async throws {
        try await Self.inSession(adapter) { s in
            let p = try s.spawn()
            _ = try s.answer(s.send("create_data", "\"process\":\(p),\"tag\":1,\"capacity\":4"))
            s.expect(try s.answer(s.send("write_data", "\"process\":\(p),\"hex\":\"01020304\"")), .result(.int(4)))
            s.expect(try s.answer(s.send("seek_data", "\"process\":\(p),\"index\":-1")), .result(.null))
            let read = try s.answer(s.send("read_data", "\"process\":\(p),\"len\":1"))
            if case .trap = read {} else { s.fail("expected read_data to trap, got \(read.summary)") }
        }
    }

    @Test("kill of the caller itself returns null; the process ends (killed) before its next request", arguments: adapters)
    func selfKill(_ adapter: String) async throws {
        try await Self.inSession(adapter) { s in
            let (p1, p2) = (try s.spawn(), try s.spawn())
            let kill = s.send("kill", "\"process\":\(p1),\"to\":\(p1)")
            let next = s.send("create_data", "\"process\":\(p1),\"tag\":1,\"capacity\":0")
            s.expect(try s.answer(kill), .result(.null))
            s.expect(try s.answer(next), .ended("killed"))
            // The same behind a blocking call: the body runs it after the receive returns.
            s.send("receive", "\"process\":\(p2),\"tags\":[],\"timeout_ms\":20")
            let queuedKill = s.send("kill", "\"process\":\(p2),\"to\":\(p2)")
            let after = s.send("create_data", "\"process\":\(p2),\"tag\":1,\"capacity\":0")
            s.expect(try s.answer(queuedKill), .result(.null))
            s.expect(try s.answer(after), .ended("killed"))
            s.expect(try s.exit(of: p2), "killed")
        }
    }

    @Test(
        "link to an ended process returns; the notice takes effect at the next waiting call (R-PROC-3)",
        arguments: adapters)
    func linkToEndedProcess(_ adapter: String) async throws {
        try await Self.inSession(adapter) { s in
            let (dies, gone, notified) = (try s.spawn(), try s.spawn(), try s.spawn())
            s.send("exit", "\"process\":\(gone)")
            s.expect(try s.exit(of: gone), "normal")
            // die_when_link_dies on: link and calls that never block return, the receive ends it.
            let link = s.send("link", "\"process\":\(dies),\"tag\":7,\"to\":\(gone)")
            let create = s.send("create_data", "\"process\":\(dies),\"tag\":1,\"capacity\":0")
            let receive = s.send("receive", "\"process\":\(dies),\"tags\":[],\"timeout_ms\":0")
            s.expect(try s.answer(link), .result(.null))
            if case .result = try s.answer(create) {} else { s.fail("create_data after link did not return") }
            s.expect(try s.answer(receive), .ended("link_died"))
            s.expect(try s.exit(of: dies), "link_died")
            // Off: the receive finds a LinkDied message with the link's tag.
            s.send("die_when_link_dies", "\"process\":\(notified),\"flag\":0")
            s.expect(try s.answer(s.send("link", "\"process\":\(notified),\"tag\":8,\"to\":\(gone)")), .result(.null))
            let a = try s.answer(s.send("receive", "\"process\":\(notified),\"tags\":[],\"timeout_ms\":0"))
            guard case .result(let r) = a, r["code"]?.int == 1, r["message"]?["kind"]?.string == "link_died",
                r["message"]?["tag"]?.int == 8
            else {
                s.fail("expected the LinkDied message with tag 8, got \(a.summary)")
                return
            }
        }
    }

    @Test("protocol 2: negotiated at hello; a guest fault traps and ends the caller with failure", arguments: adapters)
    func guestFault(_ adapter: String) async throws {
        try await Self.inSession(adapter) { s in
            s.check(s.client.handshake.protocolVersion == 2, "protocol \(s.client.handshake.protocolVersion) chosen, not 2")
            let parent = try s.spawn()
            let child = try s.spawn(parent: parent, link: 3)
            s.send("die_when_link_dies", "\"process\":\(parent),\"flag\":0")
            s.send("create_data", "\"process\":\(child),\"tag\":4,\"capacity\":0")
            let write = s.send("write_data", "\"process\":\(child),\"hex\":\"\",\"guest_fault\":true")
            let notice = s.send("receive", "\"process\":\(parent),\"tags\":[],\"timeout_ms\":0")
            guard case .trap(let reason, let scratch) = try s.answer(write) else {
                s.fail("write_data with a guest fault did not trap")
                return
            }
            s.check(reason == "lunatic::message::write_data", "trap reason \(reason)")
            s.check(scratch["tag"]?.int == 4, "scratch at the trap: \(scratch.serialized)")
            if case .result(let r) = try s.answer(notice) {
                s.check(r["code"]?.int == 1, "the parent received \(r.serialized)")
            } else {
                s.fail("no LinkDied message")
            }
            s.expect(try s.exit(of: child), "failure")
            let other = try s.spawn()
            s.expect(
                try s.answer(s.send("receive", "\"process\":\(other),\"tags\":[],\"timeout_ms\":0,\"guest_fault\":true")),
                .trap(reason: "lunatic::message::receive", scratch: .null))
        }
    }
}

/// One adapter driven request by request (requests are written when an answer is awaited).
final class AdapterSession: @unchecked Sendable {  // used by one test thread
    let client: AdapterClient

    /// Starts `command`, shakes hands and resets.
    init(_ command: [String]) throws {
        client = try AdapterClient(options: .init(command: command))
        let reset = try answer(send("reset", ""))
        guard reset == .result(.null) else { throw SessionError(text: "reset answered \(reset.summary)") }
    }

    deinit { client.terminate() }

    /// What went wrong so far. (Expectations are collected here and checked by the test itself:
    /// the session runs on a thread of its own, where `#expect` could not name the test.)
    private(set) var problems: [String] = []

    func fail(_ text: String, line: Int = #line) { problems.append("line \(line): \(text)") }

    func check(_ ok: Bool, _ text: String, line: Int = #line) { if !ok { fail(text, line: line) } }

    func expect(_ got: AdapterResponse, _ want: AdapterResponse, line: Int = #line) {
        check(got == want, "expected \(want.summary), got \(got.summary)", line: line)
    }

    func expect(_ got: String?, _ want: String, line: Int = #line) {
        check(got == want, "expected the process to end \(want), got \(got ?? "no answer")", line: line)
    }

    /// Queues a request; returns its id.
    @discardableResult
    func send(_ op: String, _ fields: String) -> Int64 { client.request(op, fields) }

    /// The answer to request `id` (writing what is queued first); fails after a minute.
    func answer(_ id: Int64) throws -> AdapterResponse {
        try client.flush()
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let deadline = (UInt64(ts.tv_sec) + 60) * 1_000_000_000 + UInt64(ts.tv_nsec)
        guard let (r, _) = try client.response(for: id, deadline: deadline) else {
            throw SessionError(text: "no answer to request \(id) within 60 s")
        }
        return r
    }

    /// Spawns a process; returns its pid.
    func spawn(parent: Int64 = 0, link: Int64 = 0) throws -> Int64 {
        let a = try answer(send("spawn", "\"parent\":\(parent),\"link\":\(link)"))
        guard case .result(let r) = a, let pid = r["pid"]?.int else { throw SessionError(text: "spawn answered \(a.summary)") }
        return pid
    }

    /// How process `pid` ended (`wait_exit`, waiting up to 30 s), e.g. "killed", or "running".
    func exit(of pid: Int64) throws -> String? {
        let a = try answer(send("wait_exit", "\"process\":\(pid),\"timeout_ms\":30000"))
        guard case .result(let r) = a else { return nil }
        return r["exit"]?.string
    }

    struct SessionError: Error, CustomStringConvertible {
        let text: String
        var description: String { text }
    }
}
