import LunaSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// Lifecycle edge cases around kills, links and waits (R-PROC-2, R-PROC-5, R-PROC-8, R-SEND-2).
@Suite struct ProcessEdgeCaseTests {
    @Test func rPROC2_killingItselfEndsAtOnce() async throws {
        let after = Box(false)
        let exit = await runNative { p in
            try p.kill(p.id)
            after.value = true
        }
        #expect(exit == .killed)
        #expect(!after.value)
    }

    @Test func rPROC2_aProcessKilledBeforeItStartsNeverRunsItsBody() async throws {
        let env = Environment()
        let ran = Box(false)
        // The spawner kills its child before yielding, so the child has not started yet.
        let spawner = env.spawn { p in
            let child = try p.spawn { _ in ran.value = true }
            try p.kill(child)
            #expect(await p.environment.waitForExit(of: child, timeout: 5) == .killed)
        }
        #expect(await env.waitForExit(of: spawner, timeout: 10) == .normal)
        #expect(!ran.value)
    }

    @Test func rSEND2_sendsToAKilledProcessAreDroppedEvenBeforeItEnds() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let victim = env.spawnThread(entry: "busy") { p in
            // Busy without runtime calls for a while: killed, but not ended yet.
            let end = MonotonicClock.now() + 100_000_000
            while MonotonicClock.now() < end {}
            _ = try p.receiveBlocking(tags: [], timeoutMs: 0)
        }
        let sender = env.spawn { p in
            try await p.sleep(ms: 10)
            try p.kill(victim)
            try sendMessage(p, to: victim, tag: 1)
        }
        #expect(await env.waitForExit(of: sender, timeout: 10) == .normal)
        #expect(await env.waitForExit(of: victim, timeout: 10) == .killed)
        let drop = collector.events.first { $0.kind == .messageDropped }
        #expect(drop?.args.first == DropReason.receiverMissing.rawValue && drop?.pid == sender)
    }

    @Test func rPROC5_linkingToADyingProcessStillGetsTheNotice() async throws {
        let env = Environment()
        let tag = Box<Int64>(0)
        let target = env.spawnThread(entry: "busy") { p in
            let end = MonotonicClock.now() + 100_000_000
            while MonotonicClock.now() < end {}
            _ = try p.receiveBlocking(tags: [], timeoutMs: 0)
        }
        let watcher = env.spawn { p in
            try p.dieWhenLinkDies(false)
            try await p.sleep(ms: 10)
            env.kill(target)  // dying, not ended: still linkable
            try p.link(tag: 12, to: target)
            #expect(try await p.receive(tags: [], timeoutMs: 5000) == 1)
            tag.value = try p.getTag()
        }
        #expect(await env.waitForExit(of: watcher, timeout: 10) == .normal)
        #expect(tag.value == 12)
    }

    @Test func boundedWaitsReturnWhenTheProcessDoesNotEnd() async throws {
        let env = Environment()
        let blocked = env.spawn { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        #expect(await env.waitForExit(of: blocked, timeout: 0.05) == nil)
        #expect(env.waitForExitBlocking(of: blocked, timeout: 0.05) == nil)
        #expect(await env.waitUntilAllExited(timeout: 0.05) == false)
        #expect(env.exitStatus(of: blocked) == nil)
        env.kill(blocked)
        #expect(await env.waitForExit(of: blocked, timeout: 5) == .killed)
        #expect(env.exitStatus(of: blocked) == .killed)
        #expect(env.exitStatus(of: 999) == nil)
        #expect(await env.waitForExit(of: 999) == .failure(reason: "no process"))
    }

    @Test func untracedRunsRecordNothingAndUseNoMessageIds() async throws {
        let env = Environment()
        let pid = env.spawn { p in
            p.createData(tag: 0, capacity: 0)
            #expect(p.scratch?.id == 0)
            try p.send(to: p.id)
            _ = try await p.receive(tags: [], timeoutMs: 0)
        }
        #expect(await env.waitForExit(of: pid, timeout: 5) == .normal)
        #expect(env.trace == nil)
    }

    @Test func aNativeProcessCannotBlockItsExecutor() async throws {
        let exit = await runNative { p in _ = try p.receiveBlocking(tags: [], timeoutMs: 10_000) }
        guard case .failure(let reason) = exit else {
            Issue.record("expected a trap, got \(exit)")
            return
        }
        #expect(reason.contains("blocking variant called from a native process"))
    }
}
