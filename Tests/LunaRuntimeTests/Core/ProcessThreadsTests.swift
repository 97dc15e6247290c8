import Foundation
import LunaSupport
import LunaTestSupport
import Synchronization
import Testing

@testable import LunaRuntime

/// Threads kept for reuse by processes that run on a thread of their own.
@Suite("Process threads")
struct ProcessThreadsTests {
    final class Token: Sendable {}

    /// The calling thread (its pthread id: distinct among threads alive at once).
    static func threadID() -> UInt { UInt(pthread_self()) }

    /// Waits (off the cooperative pool) until `condition` holds, or gives up after `seconds`
    /// (a loose bound: a failure then shows as a failed expectation, not a hung run).
    static func waitUntil(seconds: Double = 300, _ condition: @escaping @Sendable () -> Bool) async {
        await offPool {
            let deadline = MonotonicClock.deadline(after: seconds)
            while !condition() && MonotonicClock.now() < deadline { usleep(1000) }
        }
    }

    /// An idle wait no test run outlasts: threads leave only when the test says so. (With a
    /// minute, a loaded machine running the whole suite let idle threads expire between two
    /// lines of a test.)
    static let forever: UInt64 = 3_600_000_000_000

    @Test("a thread whose process ended runs the next one, keeping nothing of the first")
    func reuse() async throws {
        let threads = ProcessThreads(idleNanoseconds: Self.forever, maxIdle: 4)
        let first = Mutex<UInt?>(nil), second = Mutex<UInt?>(nil)
        weak var released: Token?
        do {
            let token = Token()
            released = token
            #expect(
                threads.run(stackSize: 1 << 20, name: "t-first") {
                    withExtendedLifetime(token) { first.withLock { $0 = Self.threadID() } }
                })
        }
        await Self.waitUntil { threads.idleCount == 1 }
        #expect(released == nil)  // the job and what it captured went with its end
        #expect(threads.run(stackSize: 1 << 20, name: "t-second") { second.withLock { $0 = Self.threadID() } })
        await Self.waitUntil { second.withLock { $0 } != nil && threads.idleCount == 1 }
        #expect(first.withLock { $0 } == second.withLock { $0 })
    }

    @Test("threads of another stack size are not reused, and idle threads exit after their wait")
    func stackSizeAndIdleExit() async throws {
        // The first thread must still be waiting when the second job comes: a thread that has
        // exited can leave its id to the next one created (a loaded run of the whole suite
        // let a 20-ms wait expire first, and the two ids matched).
        let threads = ProcessThreads(idleNanoseconds: Self.forever, maxIdle: 4)
        let ids = Mutex<[UInt]>([])
        #expect(threads.run(stackSize: 1 << 20, name: "t-a") { ids.withLock { $0.append(Self.threadID()) } })
        await Self.waitUntil { ids.withLock { $0.count } == 1 && threads.idleCount == 1 }
        #expect(threads.run(stackSize: 2 << 20, name: "t-b") { ids.withLock { $0.append(Self.threadID()) } })
        await Self.waitUntil { ids.withLock { $0.count } == 2 }
        let seen = ids.withLock { $0 }
        #expect(seen[0] != seen[1])

        let brief = ProcessThreads(idleNanoseconds: 20_000_000, maxIdle: 4)
        #expect(brief.run(stackSize: 1 << 20, name: "t-c") { ids.withLock { $0.append(Self.threadID()) } })
        #expect(brief.run(stackSize: 2 << 20, name: "t-d") { ids.withLock { $0.append(Self.threadID()) } })
        await Self.waitUntil { ids.withLock { $0.count } == 4 && brief.idleCount == 0 }  // both gave up waiting
        #expect(brief.idleCount == 0)
    }

    @Test("no more than maxIdle threads wait")
    func idleLimit() async throws {
        let threads = ProcessThreads(idleNanoseconds: Self.forever, maxIdle: 2)
        let gate = ConditionLock()
        let open = Mutex(false), ended = Mutex(0)
        for i in 0..<5 {
            #expect(
                threads.run(stackSize: 1 << 20, name: "t-\(i)") {
                    gate.lock()
                    while !open.withLock({ $0 }) { gate.wait(untilMonotonicNs: nil) }
                    gate.unlock()
                    ended.withLock { $0 += 1 }
                })
        }
        gate.lock()
        open.withLock { $0 = true }
        gate.broadcast()
        gate.unlock()
        await Self.waitUntil { ended.withLock { $0 } == 5 && threads.idleCount == 2 }
        #expect(threads.idleCount == 2)
    }
}
