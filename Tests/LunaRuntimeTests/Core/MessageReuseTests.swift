import Testing
import TraceFormat

@testable import LunaRuntime

/// `create_data` reuses finished messages (the process's own last received one, or one its
/// native executor kept): a reused message must behave exactly like a new one.
@Suite struct MessageReuseTests {
    /// Messages of changing tags and sizes (some above what the executor keeps) flow one way
    /// and back between two native processes; every one arrives with its own tag, bytes, read
    /// position and resources, and every traced message has an id of its own.
    @Test func reusedMessagesCarryOnlyTheirOwnContent() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let rounds = 300
        let problems = Box<[String]>([])
        let echo = env.spawn(entry: "echo") { p in
            for _ in 0..<rounds {
                _ = try await p.receive(tags: [], timeoutMs: .max)
                let tag = try p.getTag()
                let bytes = try p.readData(count: Int(try p.dataSize()))
                let back = try p.readData(count: 1)
                if !back.isEmpty { problems.update { $0.append("echo read past the end") } }
                p.createData(tag: tag + 1, capacity: 0)
                _ = try p.writeData(bytes.reversed())
                try p.send(to: 2)
            }
        }
        let client = env.spawn(entry: "client") { p in
            for i in 0..<rounds {
                let size = (i * 37) % 700  // some above the executor's kept-buffer limit
                let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ i) }
                p.createData(tag: Int64(i) * 2 + 1, capacity: UInt64(size / 2))
                if i % 7 == 0 {
                    _ = try p.push(.tcpStream, id: p.insert(TestResource(.tcpStream, "r\(i)")))
                }
                _ = try p.writeData(bytes)
                try p.send(to: echo)
                _ = try await p.receive(tags: [], timeoutMs: .max)
                let tag = try p.getTag()
                let back = try p.readData(count: 1000)
                if tag != Int64(i) * 2 + 2 { problems.update { $0.append("round \(i): tag \(tag)") } }
                if back != bytes.reversed() { problems.update { $0.append("round \(i): \(back.count) bytes back of \(size)") } }
            }
        }
        #expect(client == 2)
        #expect(await env.waitForExit(of: client, timeout: 120) == .normal)
        #expect(await env.waitForExit(of: echo, timeout: 120) == .normal)
        #expect(problems.value.isEmpty, "\(problems.value.prefix(5))")
        let created = collector.events.filter { $0.kind == .createData }.map(\.message)
        #expect(created.count == 2 * rounds)
        #expect(Set(created).count == created.count)
        // The pushed resources travelled with their own message only: each one the echo
        // process dropped unreceived when it replaced its scratch area.
        let dropped = collector.events.filter { $0.kind == .resourceDropped && $0.pid == echo }
        #expect(dropped.count == (rounds + 6) / 7)
    }
}
