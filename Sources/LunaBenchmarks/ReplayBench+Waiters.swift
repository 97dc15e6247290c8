import Foundation
import LunaRuntime
import TraceFormat

extension ReplayBench {
    /// A trace recorded on the real runtime in which `clients` processes wait at once: each
    /// client sends a request to one server with `send_receive_skip_search` and blocks until
    /// its reply, `rounds` times; the server takes requests in arrival order (any tag), reads
    /// the client's pid from the request and replies with the request's tag. With 1,000
    /// clients about 1,000 calls are blocked at every moment of the recording, and a replay
    /// must keep as many blocking calls open in the adapter. 11 events per request.
    static func waitersTrace(clients: Int, events: Int) throws -> [TraceEvent] {
        let rounds = max(1, events / 11 / max(1, clients))
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let total = clients * rounds
        let server = env.spawn(entry: "server") { p in
            var client: UInt64 = 0
            for _ in 0..<total {
                _ = try await p.receive(tags: [], timeoutMs: .max)
                let tag = try p.getTag()
                _ = try withUnsafeMutableBytes(of: &client) { try p.readData(into: $0) }
                p.createData(tag: tag, capacity: 8)
                _ = try withUnsafeBytes(of: client) { try p.writeData($0) }
                try p.send(to: client)
            }
        }
        var pids: [ProcessID] = []
        for _ in 0..<clients {
            pids.append(
                env.spawn(entry: "client") { p in
                    var reply: UInt64 = 0
                    for _ in 0..<rounds {
                        p.createData(tag: 1, capacity: 8)
                        _ = try withUnsafeBytes(of: p.id) { try p.writeData($0) }
                        _ = try await p.sendReceiveSkipSearch(to: server, timeoutMs: .max)
                        _ = try withUnsafeMutableBytes(of: &reply) { try p.readData(into: $0) }
                    }
                })
        }
        guard env.waitForExitBlocking(of: server, timeout: 600) == .normal else {
            throw BenchFailure("the \(clients)-client skip-search workload did not finish")
        }
        _ = env.waitUntilAllExited(timeout: 60)
        return collector.events
    }
}
