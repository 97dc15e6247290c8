import Testing
import TraceFormat

@testable import LunaRuntime

/// §6 Processes, links and deaths (R-PROC-1 … R-PROC-9), driven by the Swift API.
@Suite struct ProcessLifecycleTests {
    @Test func rPROC1_idsStartAtOneAndGrowByOne() async throws {
        let env = Environment()
        let a = env.spawn { _ in }
        let b = env.spawnThread(entry: "t") { _ in }
        let c = env.spawn { _ in }
        #expect([a, b, c] == [1, 2, 3])
        #expect(await env.waitUntilAllExited(timeout: 10))
        #expect(env.spawn { _ in } == 4)
    }

    @Test func rPROC2_normalFailureAndKilledEnds() async throws {
        let env = Environment()
        let normal = env.spawn { _ in }
        let failing = env.spawn { _ in throw LunaTrap("custom trap") }
        let blocked = env.spawn { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        try await Task.sleep(nanoseconds: 10_000_000)
        env.kill(blocked)
        #expect(await env.waitForExit(of: normal, timeout: 10) == .normal)
        #expect(await env.waitForExit(of: failing, timeout: 10) == .failure(reason: "custom trap"))
        #expect(await env.waitForExit(of: blocked, timeout: 10) == .killed)
    }

    @Test func rPROC2_killOfAMissingPidDoesNothing() async throws {
        let exit = await runNative { p in
            try p.kill(12345)
            try p.kill(p.id + 1000)
        }
        #expect(exit == .normal)
    }

    @Test func rPROC3_linkIsBothWaysWithTheTag() async throws {
        let env = Environment()
        let other = env.spawn { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let links = Box<[ProcessID: Int64]>([:])
        let me = env.spawn { p in
            try p.link(tag: 5, to: other)
            links.value = p.linkedProcesses
        }
        #expect(await env.waitForExit(of: me, timeout: 10) == .normal)
        #expect(links.value == [other: 5])
        #expect(env.process(other)?.linkedProcesses == [:])  // a normal end removed the link
        env.kill(other)
        #expect(await env.waitForExit(of: other, timeout: 10) == .killed)
    }

    @Test func rPROC3_linkToAMissingPidReturnsAndTheNoticeComesAtTheNextWait() async throws {
        let collector = TraceCollector()
        let traced = Environment(trace: collector)
        let afterLink = Box(false), afterSleep = Box(false)
        let dies = traced.spawn { p in
            try p.link(tag: 3, to: 999)
            afterLink.value = true
            p.createData(tag: 1, capacity: 0)
            _ = try p.send(to: p.id)  // a call that does not wait: still alive
            try await p.sleep(ms: 1)
            afterSleep.value = true
        }
        #expect(await traced.waitForExit(of: dies, timeout: 10) == .linkDied(from: 999))
        #expect(afterLink.value)
        #expect(!afterSleep.value)
        #expect(collector.events.last { $0.kind == .exit }?.text == "no process")
        let kinds = collector.events.filter { $0.pid == dies }.map(\.kind)
        let link = try #require(kinds.firstIndex(of: .link))
        let died = try #require(kinds.firstIndex(of: .linkDied))
        #expect(link < died && kinds[link..<died].contains(.send))
        #expect(!kinds.contains(.sleepMs))

        // With die_when_link_dies off when `link` is called, the notice becomes a LinkDied
        // message at the next wait, even if the flag is turned on in between.
        let env = Environment()
        let tag = Box<Int64>(0)
        let survives = env.spawn { p in
            try p.dieWhenLinkDies(false)
            try p.link(tag: 3, to: 999)
            try p.dieWhenLinkDies(true)
            #expect(try await p.receive(tags: [3], timeoutMs: 0) == 1)
            tag.value = try p.getTag()
        }
        #expect(await env.waitForExit(of: survives, timeout: 10) == .normal)
        #expect(tag.value == 3)
    }

    @Test func rPROC4_failingChildNotifiesParentWithTheLinkTag() async throws {
        let tag = Box<Int64>(-1)
        let exit = await runNative { p in
            try p.dieWhenLinkDies(false)
            // The child fails at once: the link must already be in place.
            try p.spawn(link: 77) { _ in throw LunaTrap("child fails") }
            #expect(try await p.receive(tags: [], timeoutMs: 5000) == 1)
            tag.value = try p.getTag()
        }
        #expect(exit == .normal)
        #expect(tag.value == 77)
    }

    @Test func rPROC4_failingParentNotifiesChildWithTagZero() async throws {
        let env = Environment()
        let tag = Box<Int64>(-1)
        let childID = Box<ProcessID>(0)
        let parent = env.spawn { p in
            let ready = p.id
            childID.value = try p.spawn(link: 77) { c in
                try c.dieWhenLinkDies(false)
                try sendMessage(c, to: ready, tag: 1)
                #expect(try await c.receive(tags: [], timeoutMs: 5000) == 1)
                tag.value = try c.getTag()
            }
            _ = try await p.receive(tags: [1], timeoutMs: 5000)
            throw LunaTrap("parent fails")
        }
        #expect(await env.waitForExit(of: parent, timeout: 10) == .failure(reason: "parent fails"))
        #expect(await env.waitForExit(of: childID.value, timeout: 10) == .normal)
        #expect(tag.value == 0)
    }

    @Test func rPROC5_deathsCascadeAlongLinks() async throws {
        let env = Environment()
        let a = env.spawn { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let b = env.spawn { p in
            try p.link(tag: 0, to: a)
            _ = try await p.receive(tags: [], timeoutMs: .max)
        }
        let c = env.spawnThread(entry: "c") { p in
            try p.link(tag: 0, to: b)
            _ = try p.receiveBlocking(tags: [], timeoutMs: .max)
        }
        let observer = env.spawn { p in
            try p.dieWhenLinkDies(false)
            try p.link(tag: 9, to: c)
            _ = try await p.receive(tags: [], timeoutMs: .max)
        }
        try await Task.sleep(nanoseconds: 20_000_000)
        env.kill(a)
        #expect(await env.waitForExit(of: a, timeout: 10) == .killed)
        #expect(await env.waitForExit(of: b, timeout: 10) == .linkDied(from: a))
        #expect(await env.waitForExit(of: c, timeout: 10) == .linkDied(from: b))
        #expect(await env.waitForExit(of: observer, timeout: 10) == .normal)
    }

    @Test func rPROC5_normalEndNotifiesNoOne() async throws {
        let result = Box<Int32>(0)
        let exit = await runNative { p in
            try p.dieWhenLinkDies(false)
            try p.spawn(link: 4) { _ in }
            result.value = try await p.receive(tags: [], timeoutMs: 50)
        }
        #expect(exit == .normal)
        #expect(result.value == 9027)
    }

    @Test func rPROC5_killedNotifiesLinkedProcessesAsLinkDied() async throws {
        let env = Environment()
        let tag = Box<Int64>(-1)
        let target = env.spawn { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let watcher = env.spawn { p in
            try p.dieWhenLinkDies(false)
            try p.link(tag: 21, to: target)
            try p.kill(target)
            #expect(try await p.receive(tags: [], timeoutMs: 5000) == 1)
            tag.value = try p.getTag()
        }
        #expect(await env.waitForExit(of: watcher, timeout: 10) == .normal)
        #expect(tag.value == 21)
    }

    @Test func rPROC6_unlinkRemovesBothSides() async throws {
        let result = Box<Int32>(0)
        let exit = await runNative { p in
            let child = try p.spawn(link: 4) { c in
                _ = try await c.receive(tags: [], timeoutMs: 5000)
                throw LunaTrap("child fails after unlink")
            }
            try p.unlink(child)
            #expect(p.linkedProcesses.isEmpty)
            try sendMessage(p, to: child, tag: 0)
            result.value = try await p.receive(tags: [], timeoutMs: 50)  // still alive, nothing queued
        }
        #expect(exit == .normal)
        #expect(result.value == 9027)
    }

    @Test func rPROC7_leftoverMessagesAndResourcesAreDroppedAtExit() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let released = Box(0)
        let holder = env.spawn { p in
            let t = p.insert(TestResource(.tcpStream, "kept in table") { released.update { $0 += 1 } })
            _ = t
            p.createData(tag: 0, capacity: 0)  // unsent scratch message
            _ = try await p.receive(tags: [99], timeoutMs: 100)
        }
        env.spawn { p in
            let t = p.insert(TestResource(.udpSocket, "in message") { released.update { $0 += 1 } })
            p.createData(tag: 1, capacity: 0)
            _ = try p.push(.udpSocket, id: t)
            try p.send(to: holder)
        }
        #expect(await env.waitForExit(of: holder, timeout: 10) == .normal)
        #expect(await env.waitUntilAllExited(timeout: 10))
        #expect(released.value == 2)
        let reasons = collector.events.filter { $0.kind == .messageDropped && $0.pid == holder }.map { $0.args.first }
        #expect(Set(reasons) == [DropReason.leftInMailbox.rawValue, DropReason.leftInScratch.rawValue])
        #expect(collector.events.contains { $0.kind == .resourceDropped && $0.pid == holder })
    }

    @Test func rPROC8_killedWhileBlockedNeverReturns() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let returned = Box<[String]>([])
        let inReceive = env.spawn { p in
            _ = try? await p.receive(tags: [], timeoutMs: .max)
            returned.update { $0.append("receive returned") }
        }
        let inSleep = env.spawn { p in
            // A day: the kill below always comes first, however long a loaded machine makes
            // the pause before it (a minute once ran out on a busy CI machine).
            try await p.sleep(ms: 86_400_000)
            returned.update { $0.append("sleep returned") }
        }
        let inSkipSearch = env.spawn { p in
            p.createData(tag: 5, capacity: 0)
            _ = try await p.sendReceiveSkipSearch(to: p.id + 100, timeoutMs: .max)
            returned.update { $0.append("skip-search returned") }
        }
        let inThread = env.spawnThread(entry: "guest") { p in
            _ = try p.receiveBlocking(tags: [], timeoutMs: .max)
            returned.update { $0.append("blocking receive returned") }
        }
        try await Task.sleep(nanoseconds: 20_000_000)
        let inThreadSleep = env.spawnThread(entry: "guest") { p in
            try p.sleepBlocking(ms: 86_400_000)
            returned.update { $0.append("blocking sleep returned") }
        }
        try await Task.sleep(nanoseconds: 20_000_000)
        for pid in [inReceive, inSleep, inSkipSearch, inThread, inThreadSleep] { env.kill(pid) }
        for (name, pid) in [
            ("sleep", inSleep), ("skip-search", inSkipSearch), ("thread receive", inThread),
            ("thread sleep", inThreadSleep),
        ] {
            let exit = await env.waitForExit(of: pid, timeout: 60)
            #expect(exit == .killed, "the process blocked in \(name) ended \(String(describing: exit))")
        }
        #expect(await env.waitForExit(of: inReceive, timeout: 60) == .killed)
        // `try?` swallowed ProcessTerminated, yet the exit is "killed" and nothing else ran a call.
        #expect(returned.value.allSatisfy { $0 == "receive returned" }, "returned: \(returned.value)")
        // The trace shows each call the process ended in, as one that never returned.
        let events = collector.events
        for pid in [inSleep, inThreadSleep] {
            let sleeps = events.filter { $0.kind == .sleepMs && $0.pid == pid }
            #expect(sleeps.count == 1 && sleeps.first?.args.at(1) == 1, "sleep of \(pid): \(sleeps)")
        }
        let receive = events.filter { $0.kind == .receive && $0.pid == inThread }
        #expect(receive.count == 1 && receive.first?.result == CallResult.none, "\(receive)")
    }

    @Test func rPROC8_linkDeathWhileBlockedNeverReturns() async throws {
        let env = Environment()
        let returned = Box(false)
        let partner = env.spawn { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let blocked = env.spawnThread(entry: "guest") { p in
            try p.link(tag: 0, to: partner)
            _ = try p.receiveBlocking(tags: [], timeoutMs: .max)
            returned.value = true
        }
        try await Task.sleep(nanoseconds: 20_000_000)
        env.kill(partner)
        #expect(await env.waitForExit(of: blocked, timeout: 10) == .linkDied(from: partner))
        #expect(!returned.value)
    }

    @Test func rPROC9_dieWhenLinkDiesAppliesToLaterDeaths() async throws {
        let env = Environment()
        let steps = Box<[String]>([])
        let p1 = env.spawn { p in
            try p.dieWhenLinkDies(false)
            try p.spawn(link: 1) { _ in throw LunaTrap("first") }
            #expect(try await p.receive(tags: [], timeoutMs: 5000) == 1)
            steps.update { $0.append("survived first") }
            try p.dieWhenLinkDies(true)
            try p.spawn(link: 2) { _ in throw LunaTrap("second") }
            _ = try await p.receive(tags: [], timeoutMs: 5000)
            steps.update { $0.append("survived second") }
        }
        let exit = await env.waitForExit(of: p1, timeout: 10)
        #expect(steps.value == ["survived first"])
        if case .linkDied = exit {} else { Issue.record("expected a link death, got \(String(describing: exit))") }
    }
}
