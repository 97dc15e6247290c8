import Foundation
import LunaRuntime
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
        [("resources", resources()), ("selective-receive", selectiveReceive()), ("skip-search", skipSearch()),
         ("links", links()), ("send-to-missing", sendToMissing())]
    }

    /// Writes every scenario as a trace file into a fresh directory; returns the directory.
    static func writeAll() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("luna-conform-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, events) in all() {
            let writer = try TraceWriter(path: dir + "/\(name).trace", header: TraceHeader(producer: "luna-conform tests"))
            for e in events { writer.record(e) }
            _ = try writer.close()
        }
        return dir
    }
}
