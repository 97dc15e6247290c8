import Testing
import TraceFormat

@testable import LunaRuntime

/// §4 Sending (R-SEND-1 … R-SEND-5), driven by the Swift API.
@Suite struct SendTests {
    @Test func rSEND1_sendEmptiesTheScratchAreaAndDelivers() async throws {
        let env = Environment()
        let got = Box<[UInt8]>([])
        let receiver = env.spawn { p in
            _ = try await p.receive(tags: [], timeoutMs: 5000)
            got.value = try p.readData(count: 10)
        }
        let sender = env.spawn { p in
            p.createData(tag: 0, capacity: 0)
            _ = try p.writeData([9, 8])
            #expect(try p.send(to: receiver) == 0)
            #expect(!p.hasScratchMessage)
            #expect(trapReason { _ = try p.getTag() } == "lunatic::message::get_tag")
        }
        #expect(await env.waitForExit(of: sender, timeout: 10) == .normal)
        #expect(await env.waitForExit(of: receiver, timeout: 10) == .normal)
        #expect(got.value == [9, 8])
    }

    @Test func rSEND2_sendToAMissingOrDeadProcessDropsAndReturnsZero() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let finished = env.spawn { _ in }
        #expect(await env.waitForExit(of: finished, timeout: 10) == .normal)
        let results = Box<[Int32]>([])
        let sender = env.spawn { p in
            p.createData(tag: 1, capacity: 0)
            results.value.append(try p.send(to: 9999))
            p.createData(tag: 2, capacity: 0)
            results.value.append(try p.send(to: finished))
        }
        #expect(await env.waitForExit(of: sender, timeout: 10) == .normal)
        #expect(results.value == [0, 0])
        let drops = collector.events.filter { $0.kind == .messageDropped }
        #expect(drops.count == 2)
        #expect(drops.allSatisfy { $0.args.first == DropReason.receiverMissing.rawValue && $0.pid == sender })
    }

    @Test func rSEND3_sendWithEmptyScratchTraps() async throws {
        let collector = TraceCollector()
        let exit = await runNative(trace: collector) { p in _ = try p.send(to: p.id) }
        #expect(exit == .failure(reason: "lunatic::message::send::no_message"))
        let send = collector.events.first { $0.kind == .send }
        #expect(send?.result == .trap("lunatic::message::send::no_message"))
    }

    @Test func rSEND4_messagesFromOneSenderArriveInOrder() async throws {
        let env = Environment()
        let got = Box<[UInt8]>([])
        let receiver = env.spawn { p in
            for _ in 0..<200 {
                _ = try await p.receive(tags: [], timeoutMs: 5000)
                got.value += try p.readData(count: 1)
            }
        }
        // One native sender and one thread sender, interleaving freely with each other.
        env.spawn { p in
            for i in 0..<100 {
                p.createData(tag: 0, capacity: 1)
                _ = try p.writeData([UInt8(i)])
                try p.send(to: receiver)
                if i % 7 == 0 { await Task.yield() }
            }
        }
        env.spawnThread(entry: "thread-sender") { p in
            for i in 0..<100 {
                p.createData(tag: 0, capacity: 1)
                _ = try p.writeData([UInt8(100 + i)])
                try p.send(to: receiver)
            }
        }
        #expect(await env.waitForExit(of: receiver, timeout: 10) == .normal)
        #expect(got.value.filter { $0 < 100 } == (0..<100).map(UInt8.init))
        #expect(got.value.filter { $0 >= 100 } == (100..<200).map(UInt8.init))
    }

    @Test func rSEND5_aProcessMaySendToItself() async throws {
        let tag = Box<Int64>(0)
        let exit = await runNative { p in
            p.createData(tag: 77, capacity: 0)
            try p.send(to: p.id)
            #expect(try await p.receive(tags: [77], timeoutMs: 0) == 0)
            tag.value = try p.getTag()
        }
        #expect(exit == .normal)
        #expect(tag.value == 77)
    }
}
