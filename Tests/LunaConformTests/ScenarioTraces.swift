import Foundation
import LunaRuntime
import LunaTestSupport
import TraceFormat

/// A resource for native test processes (stands for a TCP stream, a module, …).
final class TestResource: Resource {
    let resourceKind: ResourceKind
    init(_ kind: ResourceKind) { resourceKind = kind }
}

/// Traces recorded from real LunaRuntime runs of native processes, one per behaviour the faults
/// of the built-in adapter break. Each is deterministic: processes wait for one another with
/// receives, never with sleeps.
enum ScenarioTraces {
    /// Runs `main` as process 1 (it may spawn more) and returns the recorded events.
    static func record(_ main: @escaping @Sendable (ProcessContext) async throws -> Void) -> [TraceEvent] {
        let collector = TraceCollector()
        let env = Environment(id: 1, trace: collector)
        env.spawn(entry: "main", main)
        _ = env.waitUntilAllExited(timeout: 20)
        return collector.events
    }

    /// R-RES-2/5/6: two TCP streams and a module move in one message; the receiver takes them
    /// out of order, then a wrong-kind take traps.
    static func resources() -> [TraceEvent] {
        record { ctx in
            let receiver = try ctx.spawn(entry: "receiver") { r in
                _ = try await r.receive(tags: [], timeoutMs: .max)
                _ = try r.take(.tcpStream, index: 1)
                _ = try r.take(.tcpStream, index: 0)
                _ = try r.take(.tcpStream, index: 2)  // wrong kind: traps, the module stays (R-RES-6)
            }
            let s0 = ctx.insert(TestResource(.tcpStream))
            let s1 = ctx.insert(TestResource(.tcpStream))
            let m = ctx.insert(TestResource(.module))
            ctx.createData(tag: 3, capacity: 0)
            _ = try ctx.writeData(Array("streams".utf8))
            _ = try ctx.push(.tcpStream, id: s0)
            _ = try ctx.push(.tcpStream, id: s1)
            _ = try ctx.push(.module, id: m)
            _ = try ctx.send(to: receiver)
        }
    }

    /// R-RECV-2/5, R-SEND-1/4: tagged messages received selectively, then a timeout.
    static func selectiveReceive() -> [TraceEvent] {
        record { ctx in
            let receiver = try ctx.spawn(entry: "receiver") { r in
                _ = try await r.receive(tags: [9], timeoutMs: .max)  // go: all three are queued
                _ = try await r.receive(tags: [2], timeoutMs: .max)  // B
                _ = try await r.receive(tags: [1], timeoutMs: .max)  // A
                _ = try await r.receive(tags: [], timeoutMs: 5_000)  // C
                _ = try await r.receive(tags: [], timeoutMs: 60)  // nothing: 9027
            }
            for (tag, text) in [(Int64(1), "A"), (2, "B"), (1, "C"), (9, "go")] {
                ctx.createData(tag: tag, capacity: 8)
                _ = try ctx.writeData(Array(text.utf8))
                _ = try ctx.send(to: receiver)
            }
        }
    }

    /// R-RECV-7: a stale reply with the request's tag is queued before the call; skip-search
    /// must take the new reply and leave the stale one.
    static func skipSearch() -> [TraceEvent] {
        record { ctx in
            let me = ctx.id
            let server = try ctx.spawn(entry: "server") { s in
                s.createData(tag: 5, capacity: 0)
                _ = try s.writeData(Array("stale".utf8))
                _ = try s.send(to: me)
                s.createData(tag: 9, capacity: 0)
                _ = try s.send(to: me)
                _ = try await s.receive(tags: [], timeoutMs: .max)  // the request
                s.createData(tag: 5, capacity: 0)
                _ = try s.writeData(Array("fresh".utf8))
                _ = try s.send(to: me)
            }
            _ = try await ctx.receive(tags: [9], timeoutMs: .max)
            ctx.createData(tag: 5, capacity: 0)
            _ = try ctx.writeData(Array("request".utf8))
            _ = try await ctx.sendReceiveSkipSearch(to: server, timeoutMs: 5_000)
            _ = try ctx.readData(count: 16)
            _ = try await ctx.receive(tags: [5], timeoutMs: .max)
            _ = try ctx.readData(count: 16)
        }
    }

    /// R-PROC-4/5, R-RECV-6: a linked child fails; the parent, not dying with it, receives a
    /// LinkDied message (receive returns 1); a killed process ends as killed.
    static func links() -> [TraceEvent] {
        record { ctx in
            try ctx.dieWhenLinkDies(false)
            _ = try ctx.spawn(link: 7, entry: "child") { _ in
                throw LunaTrap(reason: "child failed")
            }
            _ = try await ctx.receive(tags: [], timeoutMs: .max)
            _ = try ctx.getTag()
            let sleeper = try ctx.spawn(entry: "sleeper") { s in
                _ = try await s.receive(tags: [42], timeoutMs: .max)
            }
            ctx.createData(tag: 1, capacity: 0)
            _ = try ctx.send(to: sleeper)
            try ctx.kill(sleeper)
        }
    }

    /// R-SEND-2: a send to a pid that never existed is dropped silently.
    static func sendToMissing() -> [TraceEvent] {
        record { ctx in
            let peer = try ctx.spawn(entry: "peer") { p in
                _ = try await p.receive(tags: [], timeoutMs: .max)
                _ = try p.dataSize()
            }
            ctx.createData(tag: 0, capacity: 0)
            _ = try ctx.writeData([1, 2, 3])
            _ = try ctx.send(to: 999)
            ctx.createData(tag: 0, capacity: 0)
            _ = try ctx.writeData([4])
            _ = try ctx.send(to: peer)
        }
    }

    /// Every scenario, by name.
    static func all() -> [(name: String, events: [TraceEvent])] {
        [
            ("resources", resources()), ("selective-receive", selectiveReceive()), ("skip-search", skipSearch()),
            ("links", links()), ("send-to-missing", sendToMissing()),
        ]
    }

    /// Writes every scenario as a trace file into a fresh directory; returns the directory.
    static func writeAll() throws -> String {
        let dir = try Scratch.makeDirectory("luna-conform").path
        for (name, events) in all() {
            let writer = try TraceWriter(path: dir + "/\(name).trace", header: TraceHeader(producer: "luna-conform tests"))
            for e in events { writer.record(e) }
            _ = try writer.close()
        }
        return dir
    }
}

/// Scenarios for what the first set leaves unchecked: resource ids, module copies, link tags,
/// LinkDied replies to skip-search, concurrent timeouts.
extension ScenarioTraces {
    /// R-RES-1: pid 1 moves its stream 0 away, then takes two streams back: they get ids 1 and 2
    /// (never 0 again); pid 2 takes slot 0 then slot 1 of one message (ids 0 and 1).
    static func resourceIDs() -> [TraceEvent] {
        record { ctx in
            let me = ctx.id
            let peer = try ctx.spawn(entry: "peer") { p in
                _ = try await p.receive(tags: [], timeoutMs: .max)
                let a = try p.take(.tcpStream, index: 0)
                let b = try p.take(.tcpStream, index: 1)
                p.createData(tag: 0, capacity: 0)
                _ = try p.push(.tcpStream, id: a)
                _ = try p.push(.tcpStream, id: b)
                _ = try p.send(to: me)
            }
            let s0 = ctx.insert(TestResource(.tcpStream))
            let s1 = ctx.insert(TestResource(.tcpStream))
            ctx.createData(tag: 0, capacity: 0)
            _ = try ctx.push(.tcpStream, id: s0)
            _ = try ctx.push(.tcpStream, id: s1)
            _ = try ctx.send(to: peer)
            _ = try await ctx.receive(tags: [], timeoutMs: .max)
            _ = try ctx.take(.tcpStream, index: 0)
            _ = try ctx.take(.tcpStream, index: 1)
        }
    }

    /// R-RES-3: a module pushed into two messages stays in the sender's table.
    static func modulePushedTwice() -> [TraceEvent] {
        record { ctx in
            let peer = try ctx.spawn(entry: "peer") { p in
                _ = try await p.receive(tags: [], timeoutMs: .max)
                _ = try await p.receive(tags: [], timeoutMs: .max)
            }
            let m = ctx.insert(TestResource(.module))
            for _ in 0..<2 {
                ctx.createData(tag: 0, capacity: 0)
                _ = try ctx.push(.module, id: m)
                _ = try ctx.send(to: peer)
            }
        }
    }

    /// R-RECV-8: the reply to a skip-search request is the LinkDied notice of the server, which
    /// fails on the request; skip-search returns 0 with it.
    static func skipSearchLinkDied() -> [TraceEvent] {
        record { ctx in
            try ctx.dieWhenLinkDies(false)
            let server = try ctx.spawn(link: 3, entry: "server") { s in
                _ = try await s.receive(tags: [], timeoutMs: .max)
                throw LunaTrap(reason: "server failed on the request")
            }
            ctx.createData(tag: 0, capacity: 0)
            _ = try await ctx.sendReceiveSkipSearch(to: server, timeoutMs: 10_000)
            _ = try ctx.getTag()
        }
    }

    /// `count` processes each wait `timeoutMs` for a message that never comes, at the same time,
    /// then pass a token around a ring (each receives from the previous one).
    static func concurrentTimeouts(count: Int, timeoutMs: UInt64) -> [TraceEvent] {
        record { ctx in
            var pids: [UInt64] = []
            for _ in 0..<count {
                pids.append(
                    try ctx.spawn(entry: "waiter") { w in
                        _ = try await w.receive(tags: [77], timeoutMs: timeoutMs)
                        _ = try await w.receive(tags: [5], timeoutMs: .max)  // the ring order from main
                        let next = UInt64(try w.readData(count: 8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
                        w.createData(tag: 6, capacity: 0)
                        _ = try w.send(to: next)
                        _ = try await w.receive(tags: [6], timeoutMs: .max)
                    })
            }
            for (i, pid) in pids.enumerated() {
                ctx.createData(tag: 5, capacity: 8)
                var next = pids[(i + 1) % pids.count]
                _ = try ctx.writeData(withUnsafeBytes(of: &next) { Array($0) })
                _ = try ctx.send(to: pid)
            }
        }
    }
}
