import Foundation
import LunaRuntime
import TraceFormat

/// A corpus-like native workload for the trace-size figure (P2), run on the real runtime: a hub
/// spawns linked workers and exchanges tagged messages of 8–24 bytes with them; every third
/// message carries a module resource (push/take); workers read the size and tag before reading;
/// every 50 rounds a linked child fails and the hub receives its LinkDied message, and the hub
/// polls an empty tag with a zero timeout. Calls: create/write/push/send/receive/read/
/// data_size/get_tag/take/spawn/link deaths/exit.
enum MixedWorkload {
    /// A module resource to move inside messages.
    final class BenchModule: Resource {
        let resourceKind: ResourceKind = .module
    }

    static let workers = 4
    /// Roughly the events one round records (hub and four workers).
    static let eventsPerRound = 64

    /// Runs about `events` events' worth of rounds, traced into `trace`.
    static func run(events: Int, trace: any TraceSink) throws {
        let rounds = max(1, events / eventsPerRound)
        let env = Environment(trace: trace)
        let hub = env.spawn(entry: "hub") { p in
            try p.dieWhenLinkDies(false)
            let module = p.insert(BenchModule())
            var workers: [ProcessID] = []
            let hub = p.id
            for w in 0..<Self.workers {
                workers.append(
                    try p.spawn(link: Int64(w + 1), entry: "worker") { c in
                        let own = c.insert(BenchModule())
                        while true {
                            _ = try await c.receive(tags: [1, 2, 3], timeoutMs: .max)
                            let tag = try c.getTag()
                            if tag == 3 { return }
                            let size = try c.dataSize()
                            let bytes = try c.readData(count: Int(size))
                            if tag == 2 { _ = try c.take(.module, index: 0) }
                            c.createData(tag: tag, capacity: 32)
                            _ = try c.writeData(bytes)
                            if tag == 2 { _ = try c.push(.module, id: own) }
                            _ = try c.send(to: hub)
                        }
                    })
            }
            var counter: UInt64 = 0
            for round in 0..<rounds {
                for (i, worker) in workers.enumerated() {
                    counter &+= 1
                    let tag: Int64 = (round + i) % 3 == 0 ? 2 : 1
                    var body: [UInt8] = []
                    withUnsafeBytes(of: counter.littleEndian) { body += $0 }
                    body += Array(repeating: UInt8(truncatingIfNeeded: round), count: (round + i) % 17)
                    p.createData(tag: tag, capacity: 32)
                    _ = try p.writeData(body)
                    if tag == 2 { _ = try p.push(.module, id: module) }
                    _ = try p.send(to: worker)
                }
                for _ in workers {
                    _ = try await p.receive(tags: [1, 2], timeoutMs: .max)
                    let tag = try p.getTag()
                    _ = try p.readData(count: 32)
                    if tag == 2 { _ = try p.take(.module, index: 0) }
                }
                if round % 50 == 49 {
                    // A linked child that fails: its LinkDied message (tag 9) reaches the hub.
                    try p.spawn(link: 9, entry: "failing") { _ in throw LunaTrap(reason: "benchmark failure") }
                    _ = try await p.receive(tags: [9], timeoutMs: .max)
                    _ = try await p.receive(tags: [77], timeoutMs: 0)
                }
            }
            for worker in workers {
                p.createData(tag: 3, capacity: 0)
                _ = try p.send(to: worker)
            }
        }
        guard env.waitForExitBlocking(of: hub, timeout: 600) == .normal else {
            throw BenchFailure("mixed workload: the hub did not end normally: \(String(describing: env.exitStatus(of: hub)))")
        }
        _ = env.waitUntilAllExited(timeout: 60)
    }
}
