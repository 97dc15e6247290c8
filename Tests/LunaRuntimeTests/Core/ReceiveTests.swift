import LunaSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// Sends an untagged-or-tagged message with `bytes` from `p` to `to`.
func sendMessage(_ p: ProcessContext, to: ProcessID, tag: Int64, _ bytes: [UInt8] = []) throws {
    p.createData(tag: tag, capacity: 0)
    if !bytes.isEmpty { _ = try p.writeData(bytes) }
    try p.send(to: to)
}

/// §5 Receiving (R-RECV-1 … R-RECV-8), driven by the Swift API.
@Suite struct ReceiveTests {
    @Test func rRECV1_theMailboxIsFIFO() async throws {
        let tags = Box<[Int64]>([])
        let exit = await runNative { p in
            for t in [5, 3, 9, 1] as [Int64] { try sendMessage(p, to: p.id, tag: t) }
            for _ in 0..<4 {
                _ = try await p.receive(tags: [], timeoutMs: 0)
                tags.value.append(try p.getTag())
            }
        }
        #expect(exit == .normal)
        #expect(tags.value == [5, 3, 9, 1])
    }

    @Test func rRECV2_tagSetTakesTheFirstMatchInQueueOrderAndKeepsTheRest() async throws {
        let tags = Box<[Int64]>([])
        let exit = await runNative { p in
            for t in [1, 2, 3, 2] as [Int64] { try sendMessage(p, to: p.id, tag: t, [UInt8(t)]) }
            try sendMessage(p, to: p.id, tag: 0)
            _ = try await p.receive(tags: [3, 2], timeoutMs: 0)  // set order does not matter
            tags.value.append(try p.getTag())
            for _ in 0..<4 {
                _ = try await p.receive(tags: [], timeoutMs: 0)
                tags.value.append(try p.getTag())
            }
        }
        #expect(exit == .normal)
        #expect(tags.value == [2, 1, 3, 2, 0])
    }

    @Test func rRECV3_aTagSetContainingZeroDoesNotMatchUntagged() async throws {
        let results = Box<[Int64]>([])
        let exit = await runNative { p in
            try sendMessage(p, to: p.id, tag: 0)
            results.value.append(Int64(try await p.receive(tags: [0], timeoutMs: 0)))
            try sendMessage(p, to: p.id, tag: 5)
            results.value.append(Int64(try await p.receive(tags: [0, 5], timeoutMs: 0)))
            results.value.append(try p.getTag())
            results.value.append(Int64(try await p.receive(tags: [], timeoutMs: 0)))
            results.value.append(try p.getTag())
        }
        #expect(exit == .normal)
        #expect(results.value == [9027, 0, 5, 0, 0])
    }

    @Test func rRECV4_waitsForAMatchAndQueuesOthersMeanwhile() async throws {
        let env = Environment()
        let tags = Box<[Int64]>([])
        let receiver = env.spawn { p in
            _ = try await p.receive(tags: [9], timeoutMs: 5000)
            tags.value.append(try p.getTag())
            _ = try await p.receive(tags: [], timeoutMs: 0)
            tags.value.append(try p.getTag())
        }
        env.spawnThread(entry: "sender") { p in
            try p.sleepBlocking(ms: 20)
            try sendMessage(p, to: receiver, tag: 1)
            try p.sleepBlocking(ms: 20)
            try sendMessage(p, to: receiver, tag: 9)
        }
        #expect(await env.waitForExit(of: receiver, timeout: 10) == .normal)
        #expect(tags.value == [9, 1])
    }

    @Test func rRECV5_timeoutZeroIsATryReceive() async throws {
        let results = Box<[Int32]>([])
        let elapsed = Box<UInt64>(.max)
        let exit = await runNative { p in
            let t0 = MonotonicClock.now()
            results.value.append(try await p.receive(tags: [], timeoutMs: 0))
            elapsed.value = MonotonicClock.now() - t0
            try sendMessage(p, to: p.id, tag: 4)
            results.value.append(try await p.receive(tags: [4], timeoutMs: 0))
        }
        #expect(exit == .normal)
        #expect(results.value == [9027, 0])
        // Loose bound: a try-receive that waited for a message would never return at all.
        #expect(elapsed.value < 10_000_000_000)
    }

    @Test(arguments: [true, false])
    func rRECV5_finiteTimeoutWaitsAtLeastTheTimeout(thread: Bool) async throws {
        let env = Environment()
        let result = Box<Int32>(0)
        let elapsed = Box<UInt64>(0)
        let pid: ProcessID
        if thread {
            pid = env.spawnThread(entry: "t") { p in
                let t0 = MonotonicClock.now()
                result.value = try p.receiveBlocking(tags: [], timeoutMs: 50)
                elapsed.value = MonotonicClock.now() - t0
            }
        } else {
            pid = env.spawn { p in
                let t0 = MonotonicClock.now()
                result.value = try await p.receive(tags: [], timeoutMs: 50)
                elapsed.value = MonotonicClock.now() - t0
            }
        }
        #expect(await env.waitForExit(of: pid, timeout: 60) == .normal)
        #expect(result.value == 9027)
        // Never early; the upper bound is loose (a loaded CI machine delays a wake-up by seconds).
        #expect(elapsed.value >= 50_000_000 && elapsed.value < 30_000_000_000)
    }

    @Test func rRECV5_maxTimeoutWaitsUntilAMessageArrives() async throws {
        let env = Environment()
        let result = Box<Int32>(-1)
        let receiver = env.spawn { p in result.value = try await p.receive(tags: [], timeoutMs: .max) }
        try await Task.sleep(nanoseconds: 30_000_000)
        #expect(env.exists(receiver))
        env.spawn { p in try sendMessage(p, to: receiver, tag: 0) }
        #expect(await env.waitForExit(of: receiver, timeout: 10) == .normal)
        #expect(result.value == 0)
    }

    @Test func rRECV6_timeoutLeavesTheScratchAreaAsItWas() async throws {
        let tag = Box<Int64>(0)
        let exit = await runNative { p in
            p.createData(tag: 42, capacity: 0)
            #expect(try await p.receive(tags: [1], timeoutMs: 10) == 9027)
            tag.value = try p.getTag()
        }
        #expect(exit == .normal)
        #expect(tag.value == 42)
    }

    @Test func rRECV7_skipSearchIgnoresAReplyAlreadyQueued() async throws {
        let env = Environment()
        let seen = Box<[[UInt8]]>([])
        let echo = env.spawn { p in
            _ = try await p.receive(tags: [], timeoutMs: 5000)
            let from = ProcessID(try p.readData(count: 1)[0])
            try sendMessage(p, to: from, tag: try p.getTag(), [2])
        }
        let client = env.spawn { p in
            try sendMessage(p, to: p.id, tag: 5, [1])  // an old "reply" with the same tag
            p.createData(tag: 5, capacity: 0)
            _ = try p.writeData([UInt8(p.id)])
            #expect(try await p.sendReceiveSkipSearch(to: echo, timeoutMs: 5000) == 0)
            seen.value.append(try p.readData(count: 5))
            #expect(try await p.receive(tags: [5], timeoutMs: 0) == 0)  // the old one stayed queued
            seen.value.append(try p.readData(count: 5))
        }
        #expect(await env.waitForExit(of: client, timeout: 10) == .normal)
        #expect(seen.value == [[2], [1]])
    }

    @Test func rRECV7_untaggedSkipSearchTakesTheNextMessageOfAnyTag() async throws {
        let env = Environment()
        let tag = Box<Int64>(-1)
        let other = env.spawn { p in
            _ = try await p.receive(tags: [], timeoutMs: 5000)
            let from = ProcessID(try p.readData(count: 1)[0])
            try sendMessage(p, to: from, tag: 31)
        }
        let client = env.spawn { p in
            try sendMessage(p, to: p.id, tag: 8)  // queued before: ignored
            p.createData(tag: 0, capacity: 0)
            _ = try p.writeData([UInt8(p.id)])
            #expect(try await p.sendReceiveSkipSearch(to: other, timeoutMs: 5000) == 0)
            tag.value = try p.getTag()
        }
        #expect(await env.waitForExit(of: client, timeout: 10) == .normal)
        #expect(tag.value == 31)
    }

    @Test(arguments: [true, false])
    func rRECV7_aFastReplyIsNeverLost(threadServer: Bool) async throws {
        let env = Environment()
        let count = 2000
        let serverBody: @Sendable (ProcessContext) throws -> Void = { p in
            for _ in 0..<count {
                _ = try p.receiveBlocking(tags: [], timeoutMs: 10_000)
                let from = ProcessID(try p.readData(count: 8).withUnsafeBytes { $0.load(as: UInt64.self) })
                try sendMessage(p, to: from, tag: try p.getTag())
            }
        }
        let server =
            threadServer
            ? env.spawnThread(entry: "server", serverBody)
            : env.spawn { p in
                for _ in 0..<count {
                    _ = try await p.receive(tags: [], timeoutMs: 10_000)
                    let from = ProcessID(try p.readData(count: 8).withUnsafeBytes { $0.load(as: UInt64.self) })
                    try sendMessage(p, to: from, tag: try p.getTag())
                }
            }
        let replies = Box(0)
        let client = env.spawn { p in
            for i in 0..<count {
                p.createData(tag: Int64(i + 1), capacity: 8)
                _ = try withUnsafeBytes(of: p.id) { try p.writeData($0) }
                if try await p.sendReceiveSkipSearch(to: server, timeoutMs: 10_000) == 0 { replies.value += 1 }
            }
        }
        #expect(await env.waitForExit(of: client, timeout: 30) == .normal)
        #expect(replies.value == count)
    }

    @Test func rRECV8_skipSearchReturnsZeroForLinkDied() async throws {
        let env = Environment()
        let results = Box<[Int64]>([])
        let client = env.spawn { p in
            try p.dieWhenLinkDies(false)
            let victim = try p.spawn(link: 66) { c in
                _ = try await c.receive(tags: [], timeoutMs: 5000)
                throw LunaTrap("victim fails on request")
            }
            p.createData(tag: 0, capacity: 0)
            results.value.append(Int64(try await p.sendReceiveSkipSearch(to: victim, timeoutMs: 5000)))
            results.value.append(try p.getTag())
            results.value.append(p.scratchLinkDied != nil ? 1 : 0)
            results.value.append(trapReason { _ = try p.dataSize() } == LunaTrap.linkDiedInScratch ? 1 : 0)
        }
        #expect(await env.waitForExit(of: client, timeout: 10) == .normal)
        #expect(results.value == [0, 66, 1, 1])
    }

    @Test func rRECV8_skipSearchTimeoutLeavesTheScratchAreaEmpty() async throws {
        let env = Environment()
        let results = Box<[String?]>([])
        let silent = env.spawn { p in _ = try await p.receive(tags: [12345], timeoutMs: 5000) }
        let client = env.spawn { p in
            p.createData(tag: 3, capacity: 0)
            results.value.append(String(try await p.sendReceiveSkipSearch(to: silent, timeoutMs: 20)))
            results.value.append(trapReason { _ = try p.getTag() })
            p.createData(tag: 3, capacity: 0)
            results.value.append(String(try await p.sendReceiveSkipSearch(to: silent, timeoutMs: 0)))
        }
        #expect(await env.waitForExit(of: client, timeout: 10) == .normal)
        #expect(results.value == ["9027", "lunatic::message::get_tag", "9027"])
        env.kill(silent)
    }

    @Test func rRECV8_skipSearchWithEmptyScratchTraps() async throws {
        let exit = await runNative { p in _ = try await p.sendReceiveSkipSearch(to: p.id, timeoutMs: 0) }
        #expect(exit == .failure(reason: "lunatic::message::send_receive_skip_search"))
    }
}
