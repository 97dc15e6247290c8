import Testing
import TraceFormat

@testable import LunaRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The thread waiter (guest processes block their own thread in receive / skip-search): its
/// adaptive spin, the unlocked hand-over of a wake-up seen while spinning, and its sleep.
@Suite struct ThreadWaiterTests {
    /// Counts up from 0, as 8 little-endian bytes.
    private static func bytes(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    private static func value(_ b: [UInt8]) -> UInt64 { b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }

    @Test("R-RECV-1/R-SEND-1, thread processes: 5k blocking round trips return every reply once, in order")
    func blockingPingPongLosesNothing() async throws {
        let env = Environment()
        // Enough hand-overs to hit the spin/sleep races many times, few enough to finish well
        // inside the bound when a crowded machine gives each wake-up a whole time slice.
        let rounds: UInt64 = 5_000
        let pong = env.spawnThread(entry: "pong") { p in
            for _ in 0..<rounds {
                #expect(try p.receiveBlocking(tags: [], timeoutMs: 10_000) == 0)
                let v = Self.value(try p.readData(count: 8))
                try sendMessage(p, to: 2, tag: 1, Self.bytes(v &+ 1))
            }
        }
        let replies = Box<[UInt64]>([])
        let ping = env.spawnThread(entry: "ping") { p in
            var got: [UInt64] = []
            for i in 0..<rounds {
                if i % 2 == 0 {
                    try sendMessage(p, to: pong, tag: 1, Self.bytes(i))
                    #expect(try p.receiveBlocking(tags: [1], timeoutMs: 10_000) == 0)
                } else {
                    p.createData(tag: 1, capacity: 8)
                    _ = try p.writeData(Self.bytes(i))
                    #expect(try p.sendReceiveSkipSearchBlocking(to: pong, timeoutMs: 10_000) == 0)
                }
                got.append(Self.value(try p.readData(count: 8)))
            }
            replies.value = got
        }
        #expect(ping == 2)
        #expect(await env.waitUntilAllExited(timeout: 120))
        #expect(env.exitStatus(of: ping) == .normal && env.exitStatus(of: pong) == .normal)
        #expect(replies.value == (0..<rounds).map { $0 + 1 })
    }

    @Test("R-RECV-5/R-RECV-6, thread processes: receives timing out while replies race in lose no message")
    func timeoutsRacingRepliesLoseNothing() async throws {
        let env = Environment()
        let rounds = 300
        // pong first: a request sent before its receiver exists would be dropped (R-SEND-2).
        let pong = env.spawnThread(entry: "pong") { p in
            for _ in 0..<rounds {
                #expect(try p.receiveBlocking(tags: [1], timeoutMs: 10_000) == 0)
                let delayMs = UInt32(try p.readData(count: 1)[0])
                if delayMs > 0 { usleep(delayMs * 1000) }
                try sendMessage(p, to: 2, tag: 2)
            }
        }
        let ping = env.spawnThread(entry: "ping") { p in
            var received = 0
            var timeouts = 0
            for i in 0..<rounds {
                // Ask for a reply after 0-2 ms and wait 1 ms: about half the waits time out
                // near the moment the reply is sent.
                try sendMessage(p, to: 1, tag: 1, [UInt8(i % 3)])
                switch try p.receiveBlocking(tags: [2], timeoutMs: 1) {
                case 0: received += 1
                case ResultCode.timeout: timeouts += 1
                default: Issue.record("unexpected receive result")
                }
            }
            // Every reply that a timeout missed is still queued.
            while try p.receiveBlocking(tags: [2], timeoutMs: 2_000) == 0 { received += 1 }
            #expect(received == rounds)
            #expect(received + timeouts >= rounds)
        }
        #expect(pong == 1 && ping == 2)
        #expect(await env.waitUntilAllExited(timeout: 120))
        #expect(env.exitStatus(of: ping) == .normal && env.exitStatus(of: pong) == .normal)
    }

    @Test("A thread process blocked with no message coming sleeps: its receive uses little CPU")
    func blockedWaiterSleeps() async throws {
        let env = Environment()
        let cpuMs = Box<Double>(-1)
        let waiter = env.spawnThread(entry: "waiter") { p in
            let before = Self.threadCPUMs()
            let result = try p.receiveBlocking(tags: [], timeoutMs: 2_000)
            cpuMs.value = Self.threadCPUMs() - before
            #expect(result == ResultCode.timeout)
        }
        #expect(await env.waitForExit(of: waiter, timeout: 30) == .normal)
        // Spinning costs at most 50 µs per wait; a waiter that kept spinning through the 2 s wait
        // would use over 1 s of CPU even sharing a CPU with another busy thread.
        #expect(cpuMs.value >= 0 && cpuMs.value < 250, "blocked receive used \(cpuMs.value) ms of CPU")
    }

    @Test("A failed busy spin shrinks the budget to nothing, probes now and then, and a success restores it")
    func spinBudgetAdapts() {
        var state = SpinState()
        #expect(state.nextBudget() == SpinState.initialNanos)
        for _ in 0..<10 { state.failed() }
        #expect(state.budget == 0)
        let budgets = (0..<Int(SpinState.probeEvery)).map { _ in state.nextBudget() }
        #expect(budgets.filter { $0 > 0 } == [SpinState.initialNanos])
        state.succeeded(afterNanos: 1_000)
        #expect(state.budget >= 2_000 && state.budget <= SpinState.maxNanos)
        state.succeeded(afterNanos: 1_000_000)
        #expect(state.budget == SpinState.maxNanos)
    }

    /// CPU time of the calling thread, in ms.
    private static func threadCPUMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }
}
