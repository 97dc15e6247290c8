import Testing
import TraceFormat

@testable import LunaRuntime

/// §2 Messages (R-MSG-1 … R-MSG-10), driven by the Swift API.
@Suite struct MessageDataTests {
    @Test func rMSG1_dataAndLinkDiedAreTheTwoKinds() async throws {
        let results = Box<[Int32]>([])
        let exit = await runNative { p in
            try p.dieWhenLinkDies(false)
            p.createData(tag: 3, capacity: 0)
            try p.send(to: p.id)
            let r1 = try await p.receive(tags: [], timeoutMs: 1000)
            try p.spawn(link: 9) { _ in throw LunaTrap("child fails") }
            let r2 = try await p.receive(tags: [], timeoutMs: 2000)
            results.value = [r1, r2, Int32(try p.getTag())]
        }
        #expect(exit == .normal)
        #expect(results.value == [0, 1, 9])
    }

    @Test func rMSG2_tagZeroIsUntagged() async throws {
        let tag = Box<Int64>(-1)
        let exit = await runNative { p in
            p.createData(tag: 0, capacity: 0)
            tag.value = try p.getTag()
        }
        #expect(exit == .normal)
        #expect(tag.value == 0)
    }

    @Test func rMSG3_createDataReplacesScratchIncludingResources() async throws {
        let collector = TraceCollector()
        let released = Box(false)
        let seen = Box<[Int64]>([])
        let exit = await runNative(trace: collector) { p in
            p.createData(tag: 1, capacity: 0)
            _ = try p.writeData([1, 2, 3])
            let sid = p.insert(TestResource(.tcpStream, "s") { released.value = true })
            _ = try p.push(.tcpStream, id: sid)
            p.createData(tag: 2, capacity: 0)
            seen.value = [try p.getTag(), Int64(try p.dataSize())]
        }
        #expect(exit == .normal)
        #expect(seen.value == [2, 0])
        #expect(released.value)
        let drops = collector.events.filter { $0.kind == .messageDropped }
        #expect(drops.first?.args.first == DropReason.replacedInScratch.rawValue)
        #expect(collector.events.contains { $0.kind == .resourceDropped && $0.args.at(1) == ResourceKind.tcpStream.rawValue })
    }

    @Test func rMSG4_capacityIsOnlyAHint() async throws {
        let size = Box<UInt64>(0)
        let exit = await runNative { p in
            p.createData(tag: 0, capacity: 2)
            _ = try p.writeData([UInt8](repeating: 7, count: 100))
            p.createData(tag: 0, capacity: 1 << 50)  // a wild hint must not allocate it
            _ = try p.writeData([1])
            size.value = try p.dataSize()
        }
        #expect(exit == .normal)
        #expect(size.value == 1)
    }

    @Test func rMSG5_writeAppendsAtTheEndNotAtTheReadPosition() async throws {
        let out = Box<[UInt8]>([])
        let exit = await runNative { p in
            p.createData(tag: 0, capacity: 0)
            let n = try p.writeData([1, 2, 3])
            _ = try p.readData(count: 1)
            let m = try p.writeData([4])
            try p.seekData(0)
            out.value = try p.readData(count: 10) + [UInt8(n), UInt8(m)]
        }
        #expect(exit == .normal)
        #expect(out.value == [1, 2, 3, 4, 3, 1])
    }

    @Test func rMSG6_readCopiesTheMinimumAndReturnsZeroAtTheEnd() async throws {
        let out = Box<[[UInt8]]>([])
        let exit = await runNative { p in
            p.createData(tag: 0, capacity: 0)
            _ = try p.writeData([1, 2, 3, 4, 5])
            out.value = [try p.readData(count: 2), try p.readData(count: 10), try p.readData(count: 10)]
        }
        #expect(exit == .normal)
        #expect(out.value == [[1, 2], [3, 4, 5], []])
    }

    @Test func rMSG7_seekPastTheEndThenReadTraps() async throws {
        let atEnd = Box<[UInt8]?>(nil)
        let exit = await runNative { p in
            p.createData(tag: 0, capacity: 0)
            _ = try p.writeData([1, 2, 3])
            try p.seekData(3)
            atEnd.value = try p.readData(count: 4)
            try p.seekData(1000)  // seeking never traps by itself
            _ = try p.readData(count: 1)
        }
        #expect(atEnd.value == [])
        #expect(exit == .failure(reason: "lunatic::message::read_data"))
    }

    @Test func rMSG8_dataSizeIsBytesWritten() async throws {
        let sizes = Box<[UInt64]>([])
        let exit = await runNative { p in
            p.createData(tag: 0, capacity: 64)
            sizes.value.append(try p.dataSize())
            _ = try p.writeData([1, 2, 3, 4])
            _ = try p.readData(count: 3)
            sizes.value.append(try p.dataSize())
        }
        #expect(exit == .normal)
        #expect(sizes.value == [0, 4])
    }

    @Test func rMSG9_everyDataCallTrapsOnAnEmptyScratchArea() async throws {
        let reasons = Box<[String?]>([])
        let exit = await runNative { p in
            var r: [String?] = []
            r.append(trapReason { _ = try p.writeData([1]) })
            r.append(trapReason { _ = try p.readData(count: 1) })
            r.append(trapReason { try p.seekData(0) })
            r.append(trapReason { _ = try p.getTag() })
            r.append(trapReason { _ = try p.dataSize() })
            let mid = p.insert(TestResource(.module, "m"))
            r.append(trapReason { _ = try p.push(.module, id: mid) })
            r.append(trapReason { _ = try p.take(.module, index: 0) })
            r.append(trapReason { _ = try p.take(.tcpStream, index: 0) })
            r.append(trapReason { _ = try p.take(.tlsStream, index: 0) })
            r.append(trapReason { _ = try p.take(.udpSocket, index: 0) })
            reasons.value = r
        }
        #expect(exit == .normal)
        #expect(
            reasons.value == [
                "lunatic::message::write_data", "lunatic::message::read_data", "lunatic::message::seek_data",
                "lunatic::message::get_tag", "lunatic::message::data_size", "lunatic::message::push_module",
                "lunatic::message::take_module", "lunatic::message::take_tcp_stream",
                "lunatic::message::take_tls_stream", "lunatic::message::take_udp_socket",
            ])
    }

    @Test func rMSG10_dataCallsTrapOnLinkDiedButGetTagReturnsTheLinkTag() async throws {
        let reasons = Box<[String?]>([])
        let tag = Box<Int64>(0)
        let exit = await runNative { p in
            try p.dieWhenLinkDies(false)
            try p.spawn(link: 42) { _ in throw LunaTrap("child fails") }
            let mid = p.insert(TestResource(.module, "m"))
            var r: [String?] = []
            // Each trapping call below may take the LinkDied message out (as lunatic does), so
            // get a fresh one for each.
            func fresh() async throws {
                try p.spawn(link: 42) { _ in throw LunaTrap("child fails") }
                #expect(try await p.receive(tags: [], timeoutMs: 2000) == 1)
            }
            #expect(try await p.receive(tags: [], timeoutMs: 2000) == 1)
            tag.value = try p.getTag()
            r.append(trapReason { _ = try p.writeData([1]) }); try await fresh()
            r.append(trapReason { _ = try p.readData(count: 1) }); try await fresh()
            r.append(trapReason { try p.seekData(0) }); try await fresh()
            r.append(trapReason { _ = try p.dataSize() }); try await fresh()
            r.append(trapReason { _ = try p.push(.module, id: mid) }); try await fresh()
            r.append(trapReason { _ = try p.take(.module, index: 0) })
            reasons.value = r
        }
        #expect(exit == .normal)
        #expect(tag.value == 42)
        #expect(reasons.value == Array(repeating: LunaTrap.linkDiedInScratch, count: 6))
    }
}
