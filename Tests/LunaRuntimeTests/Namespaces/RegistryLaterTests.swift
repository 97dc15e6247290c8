import Foundation
import LunaSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// `lunatic::registry::get_or_put_later` (traces/guests/ns_registry.c): lunatic's atomic
/// lookup-or-register.
@Suite("lunatic::registry::get_or_put_later")
struct RegistryLaterTests {
    static var guest: GuestModule { get throws { try TestGuests.module("ns_registry") } }

    @Test("a miss holds the registry: another process's get waits until the holder's put, then finds it")
    func holdUntilPut() async throws {
        let run = try await runGuest(try Self.guest, "later_main")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.stdout == "later ok\n")
        let calls = run.events(.registryCall)
        let holder = calls.filter { $0.pid == run.pid }
        #expect(holder.map(\.text) == ["get_or_put_later svc", "put svc", "get_or_put_later svc"])
        #expect(holder.map(\.result) == [.value(1), .none, .value(0)])
        #expect(holder[2].args == [0, Int64(run.pid)])
        let contender = try #require(calls.first { $0.pid != run.pid })
        #expect(contender.text == "get svc" && contender.result == .value(0))
        // A get that began before the put (the usual case: the holder sleeps 0.15 s first) cannot
        // have ended before the put began: it waited, and found the name. (Not "after the put
        // ended": the put's end is read after it releases the registry, so the woken get may
        // read its own end first.)
        if contender.start < holder[1].start { #expect(contender.end >= holder[1].start) }
    }

    @Test("a call on a held registry waits until the holder's put and then sees it")
    func waitsForHolder() async throws {
        let registry = ProcessRegistry()
        #expect(try registry.getOrPutLater("n", caller: 1, alive: {}) == nil)
        // The waiter blocks its thread: an OS thread of its own, not one of the test pool's.
        let found = Box<ProcessID?>(nil)
        let waiter = Thread {
            let process = try? registry.get("n", caller: 2, alive: {})?.process
            found.value = process
        }
        waiter.start()
        #expect(await eventually { registry.waitingCalls == 1 })
        #expect(found.value == nil)
        try registry.put("n", node: 0, process: 77, caller: 1, alive: {})
        #expect(await eventually { found.value == 77 })
        #expect(registry.waitingCalls == 0)
    }

    @Test(
        "get or remove after a miss, while holding the registry, traps as in lunatic",
        arguments: [("later_then_get", "get"), ("later_then_remove", "remove")])
    func deadlockTrap(entry: String, function: String) async throws {
        let run = try await runGuest(try Self.guest, entry)
        #expect(run.exit == .failure(reason: "calling `lunatic::registry::\(function)` after `get_or_put_later` will deadlock"))
    }

    @Test("a holder that ends without put releases the registry")
    func releasedAtEnd() async throws {
        let environment = Environment()
        let output = CapturedGuestOutput()
        let holder = try environment.spawnGuest(
            module: try Self.guest, entry: "hold_and_end",
            options: GuestOptions(output: output))
        #expect(await environment.waitForExit(of: holder, timeout: 20) == .normal)
        let next = try environment.spawnGuest(
            module: try Self.guest, entry: "lookup_missing",
            options: GuestOptions(output: output))
        #expect(await environment.waitForExit(of: next, timeout: 5) == .normal)
        #expect(output.stdout == "free\n")
    }

    @Test("a process waiting for a held registry can be killed")
    func killWhileWaiting() async throws {
        let registry = ProcessRegistry()
        #expect(try registry.getOrPutLater("n", caller: 1, alive: {}) == nil)
        struct Killed: Error {}
        let started = MonotonicClock.now()
        var polls = 0
        #expect(throws: Killed.self) {
            _ = try registry.get("n", caller: 2) {
                polls += 1
                if polls == 3 { throw Killed() }
            }
        }
        // Three polls of 20 ms; unpolled, the wait would last as long as the holder. Loose for
        // a loaded machine.
        #expect(Double(MonotonicClock.now() - started) / 1e9 < 20)
        registry.release(heldBy: 1)
        #expect(try registry.get("n", caller: 2, alive: {}) == nil)
    }
}
