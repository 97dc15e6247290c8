import LunaSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// When a kill or a link death takes effect, and what the trace says about it: a wait that a
/// message has ended returned (whatever comes before the process runs again), and the deaths a
/// kill causes through links are decided inside the kill (R-PROC-5, R-PROC-8).
///
/// Native processes share one executor thread, so a process woken by a send runs only once the
/// sender suspends: each test wakes or marks a process and acts on it in one stretch of the
/// acting process, with no suspension in between.
@Suite struct DeathTimingTests {
    /// The index of the first event matching `predicate`.
    static func index(_ events: [TraceEvent], _ predicate: (TraceEvent) -> Bool) throws -> Int {
        let i = events.firstIndex(where: predicate)
        return try #require(i)
    }

    @Test func rPROC8_aReceiveWokenByAMessageReturnsBeforeAKillThatComesBeforeItRuns() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let receiver = env.spawn { p in
            _ = try await p.receive(tags: [7], timeoutMs: .max)  // the killer's "ready"
            p.createData(tag: 1, capacity: 0)
            _ = try p.send(to: p.id + 1)  // the killer
            _ = try await p.receive(tags: [2], timeoutMs: .max)  // woken, then killed
            _ = try p.readData(count: 1)
        }
        let killer = env.spawn { p in
            p.createData(tag: 7, capacity: 0)
            _ = try p.send(to: receiver)
            _ = try await p.receive(tags: [1], timeoutMs: .max)  // receiver now waits for tag 2
            p.createData(tag: 2, capacity: 0)
            _ = try p.send(to: receiver)  // wakes it: it runs only after this body suspends
            try p.kill(receiver)
        }
        #expect(killer == receiver + 1)
        #expect(await env.waitForExit(of: receiver, timeout: 30) == .killed)
        #expect(await env.waitUntilAllExited(timeout: 30))
        let events = collector.events
        let returned = try Self.index(events) { $0.kind == .receive && $0.pid == receiver && $0.tags == [2] }
        let kill = try Self.index(events) { $0.kind == .kill && $0.args.at(0) == Int64(receiver) }
        #expect(returned < kill, "the receive's return is recorded after the kill: \(events.map(\.kind.name))")
        #expect(events[returned].result == .value(0) && events[returned].message != 0)
        #expect(!events.contains { $0.kind == .readData && $0.pid == receiver }, "the killed process ran another call")
    }

    @Test func rPROC8_aSkipSearchWokenByItsReplyReturnsBeforeAKillThatComesBeforeItRuns() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let server = env.spawn { p in
            _ = try await p.receive(tags: [4], timeoutMs: .max)  // the request
            let client = p.id + 1
            p.createData(tag: 4, capacity: 0)
            _ = try p.send(to: client)  // the reply wakes the client
            try p.kill(client)
        }
        let client = env.spawn { p in
            p.createData(tag: 4, capacity: 0)  // runs second: the server waits already
            _ = try await p.sendReceiveSkipSearch(to: server, timeoutMs: .max)
            _ = try p.getTag()
        }
        #expect(await env.waitForExit(of: client, timeout: 30) == .killed)
        #expect(await env.waitUntilAllExited(timeout: 30))
        let events = collector.events
        let returned = try Self.index(events) { $0.kind == .sendReceiveSkipSearchReturn && $0.pid == client }
        let kill = try Self.index(events) { $0.kind == .kill }
        #expect(returned < kill, "the skip-search return is recorded after the kill: \(events.map(\.kind.name))")
        #expect(events[returned].result == .value(0) && events[returned].message != 0)
        #expect(!events.contains { $0.kind == .getTag && $0.pid == client })
    }

    @Test func rPROC5_aKillDeliversItsLinkDeathsBeforeItReturns() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let a = env.spawn { p in _ = try await p.receive(tags: [9], timeoutMs: .max) }
        let b = env.spawn { p in
            try p.link(tag: 3, to: a)
            _ = try await p.receive(tags: [9], timeoutMs: .max)
        }
        let watcher = env.spawn { p in
            try p.dieWhenLinkDies(false)
            try p.link(tag: 5, to: a)
            _ = try await p.receive(tags: [9], timeoutMs: .max)
        }
        env.spawn { p in
            try await p.sleep(ms: 1)  // a, b and the watcher are waiting by now (they ran first)
            try p.kill(a)  // b dies of the link now, not when a next runs
            try p.kill(b)  // so this kill finds b dead: a no-op
            p.createData(tag: 9, capacity: 0)
            _ = try p.send(to: watcher)
        }
        #expect(await env.waitForExit(of: a, timeout: 30) == .killed)
        #expect(await env.waitForExit(of: b, timeout: 30) == .linkDied(from: a))
        // The watcher's LinkDied message was queued by the kill, before the data message.
        let events = collector.events
        let notice = try Self.index(events) { $0.kind == .linkDied && $0.pid == watcher }
        let send = try Self.index(events) { $0.kind == .send && $0.args.at(0) == Int64(watcher) }
        #expect(notice < send)
        let died = try Self.index(events) { $0.kind == .linkDied && $0.pid == b }
        let secondKill = try Self.index(events) { $0.kind == .kill && $0.args.at(0) == Int64(b) }
        #expect(died < secondKill)
        env.kill(watcher)
        #expect(await env.waitUntilAllExited(timeout: 30))
    }

    @Test func rPROC5_aCascadeIsDecidedBeforeTheDyingProcessRunsAgain() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let g = env.spawn { p in
            try await p.sleep(ms: 2)
            throw LunaTrap("unreachable")
        }
        let p = env.spawn(link: 1, parent: g) { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let c = env.spawn(link: 1, parent: p) { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        #expect(await env.waitForExit(of: g, timeout: 30) == .failure(reason: "unreachable"))
        #expect(await env.waitForExit(of: p, timeout: 30) == .linkDied(from: g))
        #expect(await env.waitForExit(of: c, timeout: 30) == .linkDied(from: p))
        // p's death reached c when g's failure decided it, not when p ran to its end: nothing
        // c could do meanwhile is left for a replay to disagree with.
        let events = collector.events
        let notice = try Self.index(events) { $0.kind == .linkDied && $0.pid == c }
        let pExit = try Self.index(events) { $0.kind == .exit && $0.pid == p }
        #expect(notice < pExit, "\(events.map { "\($0.kind.name) \($0.pid)" })")
    }

    @Test func rPROC8_createDataOfAKilledProcessDoesNothing() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let victim = env.spawn { p in
            _ = try await p.receive(tags: [1], timeoutMs: 5)  // times out: runnable, not waiting
            p.createData(tag: 3, capacity: 0)  // after the kill: no effect
            _ = try p.writeData([1])  // ends it
        }
        env.spawn { p in
            try await p.sleep(ms: 3)  // its timer fires just before the victim's: it runs first
            try p.kill(victim)
        }
        env.spawn { _ in
            // Keeps the executor past both deadlines, so that both timers fire together.
            let end = MonotonicClock.now() + 30_000_000
            while MonotonicClock.now() < end {}
        }
        #expect(await env.waitForExit(of: victim, timeout: 30) == .killed)
        #expect(await env.waitUntilAllExited(timeout: 30))
        let events = collector.events
        let timedOut = try Self.index(events) { $0.kind == .receive && $0.pid == victim }
        let kill = try Self.index(events) { $0.kind == .kill }
        #expect(timedOut < kill && events[timedOut].result == .value(9027))
        #expect(!events[kill...].contains { $0.kind == .createData }, "\(events.map(\.kind.name))")
    }

    /// A kill that reaches a process after it has decided its own end (its body returned) is a
    /// no-op, and the trace says so: the process's `exit` comes first, so a replay finds a pid
    /// that has ended (R-PROC-2), and a kill of a process linked to it no longer reaches it
    /// (R-PROC-5). The kills here run while the ending process releases its resources, the
    /// moment a host's end-of-program kill met a Rust guest's child that had just returned.
    @Test func rPROC2_aKillMeetingAProcessThatEndedByItselfIsRecordedAfterItsExit() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let partner = env.spawn { p in
            _ = try await p.receive(tags: [1], timeoutMs: .max)  // until killed
        }
        let ender = env.spawn { p in
            try p.link(tag: 5, to: partner)
            _ = p.insert(KillOnRelease(env, victims: [p.id, partner]))
        }
        #expect(await env.waitForExit(of: ender, timeout: 30) == .normal)
        #expect(await env.waitForExit(of: partner, timeout: 30) == .killed)
        let events = collector.events
        let exit = try Self.index(events) { $0.kind == .exit && $0.pid == ender }
        let kill = try Self.index(events) { $0.kind == .kill && $0.args.at(0) == Int64(ender) }
        let partnerKill = try Self.index(events) { $0.kind == .kill && $0.args.at(0) == Int64(partner) }
        #expect(exit < kill && exit < partnerKill, "\(events.map { "\($0.kind.name) \($0.pid)" })")
        #expect(events[exit].args.at(0) == ProcessExit.normal.code.rawValue)
        #expect(!events.contains { $0.kind == .linkDied && $0.pid == ender })
    }
}

/// A resource that kills `victims` when released: its process's end releases it after the
/// end is decided and before the process leaves the process table.
private final class KillOnRelease: Resource, @unchecked Sendable {
    let resourceKind: ResourceKind = .module
    let env: Environment
    let victims: [ProcessID]
    init(_ env: Environment, victims: [ProcessID]) {
        self.env = env
        self.victims = victims
    }
    deinit { for v in victims { env.kill(v) } }
}
