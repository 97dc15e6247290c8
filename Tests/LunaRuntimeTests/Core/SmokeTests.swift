import Testing
import TraceFormat
@testable import LunaRuntime

@Suite struct CoreSmokeTests {
    @Test func pingPongBetweenNativeProcesses() async throws {
        let env = Environment()
        let got = Box<[UInt8]>([])
        let server = env.spawn { p in
            for _ in 0..<3 {
                _ = try await p.receive(tags: [], timeoutMs: .max)
                let bytes = try p.readData(count: 100)
                let from = ProcessID(bytes[0])
                p.createData(tag: 0, capacity: 0)
                _ = try p.writeData(bytes.map { $0 &+ 1 })
                try p.send(to: from)
            }
        }
        let client = env.spawn { p in
            for i in 0..<3 {
                p.createData(tag: 0, capacity: 8)
                _ = try p.writeData([UInt8(p.id), UInt8(i)])
                try p.send(to: server)
                _ = try await p.receive(tags: [], timeoutMs: 1000)
                got.update { $0 += try! p.readData(count: 10) }
            }
        }
        #expect(await env.waitForExit(of: client, timeout: 5) == .normal)
        #expect(await env.waitForExit(of: server, timeout: 5) == .normal)
        #expect(got.value == [3, 1, 3, 2, 3, 3])
    }
}
