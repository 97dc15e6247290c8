import Testing
import TraceFormat

@testable import LunaRuntime

/// §3 Resources in messages (R-RES-1 … R-RES-7), driven by the Swift API with test resources
/// of every movable kind.
@Suite struct ResourceMessageTests {
    @Test func rRES1_tablesPerKindCountFromZeroAndNeverReuseIds() async throws {
        let ids = Box<[UInt64]>([])
        let exit = await runNative { p in
            let a = p.insert(TestResource(.tcpStream, "a"))
            let b = p.insert(TestResource(.tcpStream, "b"))
            let m = p.insert(TestResource(.module, "m"))
            _ = p.removeResource(.tcpStream, id: b)
            let c = p.insert(TestResource(.tcpStream, "c"))
            ids.value = [a, b, m, c]
        }
        #expect(exit == .normal)
        #expect(ids.value == [0, 1, 0, 2])
    }

    @Test func rRES2_slotIndexesCountAcrossKinds() async throws {
        let slots = Box<[UInt64]>([])
        let exit = await runNative { p in
            let m = p.insert(TestResource(.module, "m"))
            let t = p.insert(TestResource(.tcpStream, "t"))
            let s = p.insert(TestResource(.tlsStream, "s"))
            let u = p.insert(TestResource(.udpSocket, "u"))
            p.createData(tag: 0, capacity: 0)
            slots.value = [
                try p.push(.module, id: m), try p.push(.tcpStream, id: t),
                try p.push(.tlsStream, id: s), try p.push(.udpSocket, id: u),
                try p.push(.module, id: m),
            ]
        }
        #expect(exit == .normal)
        #expect(slots.value == [0, 1, 2, 3, 4])
    }

    @Test func rRES3_streamsAndSocketsMoveModulesStay() async throws {
        let present = Box<[Bool]>([])
        let exit = await runNative { p in
            let m = p.insert(TestResource(.module, "m"))
            let t = p.insert(TestResource(.tcpStream, "t"))
            let s = p.insert(TestResource(.tlsStream, "s"))
            let u = p.insert(TestResource(.udpSocket, "u"))
            p.createData(tag: 0, capacity: 0)
            for (k, id) in [(ResourceKind.module, m), (.tcpStream, t), (.tlsStream, s), (.udpSocket, u)] {
                _ = try p.push(k, id: id)
                present.value.append(p.resource(k, id: id) != nil)
            }
        }
        #expect(exit == .normal)
        #expect(present.value == [true, false, false, false])
    }

    @Test func rRES4_pushOfAMissingIdTraps() async throws {
        let exit = await runNative { p in
            p.createData(tag: 0, capacity: 0)
            _ = try p.push(.udpSocket, id: 5)
        }
        #expect(exit == .failure(reason: "lunatic::message::push_udp_socket"))
    }

    @Test(arguments: [ResourceKind.tcpStream, .tlsStream, .udpSocket])
    func rRES4_pushWithEmptyScratchTrapsAndLosesTheResource(kind: ResourceKind) async throws {
        let released = Box(false)
        let afterTrap = Box<Bool?>(nil)
        let reason = Box<String?>(nil)
        let exit = await runNative { p in
            let id = p.insert(TestResource(kind, "r") { released.value = true })
            reason.value = trapReason { _ = try p.push(kind, id: id) }
            afterTrap.value = p.resource(kind, id: id) != nil
        }
        #expect(exit == .normal)
        #expect(reason.value == "lunatic::message::push_\(kind)")
        #expect(afterTrap.value == false)
        #expect(released.value)
    }

    @Test func rRES4_modulePushWithEmptyScratchKeepsTheModule() async throws {
        let kept = Box<Bool?>(nil)
        let exit = await runNative { p in
            let id = p.insert(TestResource(.module, "m"))
            #expect(trapReason { _ = try p.push(.module, id: id) } == "lunatic::message::push_module")
            kept.value = p.resource(.module, id: id) != nil
        }
        #expect(exit == .normal)
        #expect(kept.value == true)
    }

    @Test func rRES5_takeMovesIntoTheReceiversTableAndKeepsOtherIndexes() async throws {
        let env = Environment()
        let labels = Box<[String]>([])
        let ids = Box<[UInt64]>([])
        let receiver = env.spawn { p in
            _ = p.insert(TestResource(.tcpStream, "own"))  // receiver's table already has id 0
            #expect(try await p.receive(tags: [], timeoutMs: 5000) == 0)
            let t = try p.take(.tcpStream, index: 1)
            let m = try p.take(.module, index: 0)
            let t2 = try p.take(.tcpStream, index: 2)
            ids.value = [t, m, t2]
            labels.value =
                [t, t2].map { (p.resource(.tcpStream, id: $0) as! TestResource).label }
                + [(p.resource(.module, id: m) as! TestResource).label]
            #expect(trapReason { _ = try p.take(.tcpStream, index: 1) } == "lunatic::message::take_tcp_stream")
        }
        env.spawn { p in
            let m = p.insert(TestResource(.module, "mod"))
            let a = p.insert(TestResource(.tcpStream, "first"))
            let b = p.insert(TestResource(.tcpStream, "second"))
            p.createData(tag: 0, capacity: 0)
            _ = try p.push(.module, id: m)
            _ = try p.push(.tcpStream, id: a)
            _ = try p.push(.tcpStream, id: b)
            try p.send(to: receiver)
        }
        #expect(await env.waitForExit(of: receiver, timeout: 10) == .normal)
        #expect(ids.value == [1, 0, 2])
        #expect(labels.value == ["first", "second", "mod"])
    }

    @Test func rRES6_takeTrapsOnBadIndexTakenTwiceAndWrongKind() async throws {
        let reasons = Box<[String?]>([])
        let recovered = Box<UInt64?>(nil)
        let exit = await runNative { p in
            let m = p.insert(TestResource(.module, "m"))
            let u = p.insert(TestResource(.udpSocket, "u"))
            p.createData(tag: 0, capacity: 0)
            _ = try p.push(.module, id: m)
            _ = try p.push(.udpSocket, id: u)
            var r: [String?] = []
            r.append(trapReason { _ = try p.take(.module, index: 7) })
            _ = try p.take(.module, index: 0)
            r.append(trapReason { _ = try p.take(.module, index: 0) })
            r.append(trapReason { _ = try p.take(.tcpStream, index: 1) })
            reasons.value = r
            recovered.value = try p.take(.udpSocket, index: 1)  // the wrong-kind take left it in place
        }
        #expect(exit == .normal)
        #expect(
            reasons.value == [
                "lunatic::message::take_module", "lunatic::message::take_module",
                "lunatic::message::take_tcp_stream",
            ])
        #expect(recovered.value == 1)
    }

    @Test func rRES7_untakenResourcesAreDroppedWithTheirMessage() async throws {
        let collector = TraceCollector()
        let env = Environment(trace: collector)
        let released = Box(false)
        let receiver = env.spawn { p in
            let r = try await p.receive(tags: [], timeoutMs: 5000)
            #expect(r == 0)
            p.createData(tag: 0, capacity: 0)  // replaces the received message, resource untaken
        }
        env.spawn { p in
            let t = p.insert(TestResource(.tcpStream, "t") { released.value = true })
            p.createData(tag: 0, capacity: 0)
            _ = try p.push(.tcpStream, id: t)
            try p.send(to: receiver)
        }
        #expect(await env.waitForExit(of: receiver, timeout: 10) == .normal)
        #expect(await env.waitUntilAllExited(timeout: 5))
        #expect(released.value)
        let dropped = collector.events.filter { $0.kind == .resourceDropped }
        #expect(dropped.count == 1)
        #expect(dropped.first?.pid == receiver)
        #expect(dropped.first?.args == [0, ResourceKind.tcpStream.rawValue])
    }
}
