import Foundation
import Testing

@testable import TraceFormat

/// A format 1.0 file is read in the current shape: each combined skip-search event becomes a
/// send half (moved back before the receive of its request) and a return (docs/TRACE_FORMAT.md,
/// section 8). Generated workloads check the same on whole recordings (ConformanceFuzzTests).
@Suite struct FormatOneZeroTests {
    static let oneZero = TraceHeader(producer: "tests", timeUnitNanos: 1, formatMajor: 1, formatMinor: 0)

    /// Client 1 asks server 2 with skip-search (request 10, reply 11); the server's receive of
    /// the request comes before the combined event, as 1.0 recorded it.
    static func exchange(
        client: ProcessID = 1, server: ProcessID = 2, request: MessageID = 10, reply: MessageID = 11
    )
        -> [TraceEvent]
    {
        [
            TraceEvent(kind: .createData, pid: client, start: 10, args: [5, 0], message: request),
            TraceEvent(kind: .receive, pid: server, start: 5, end: 30, args: [-1], message: request, result: .value(0)),
            TraceEvent(kind: .createData, pid: server, start: 40, args: [6, 0], message: reply),
            TraceEvent(kind: .send, pid: server, start: 50, args: [Int64(client)], message: reply, result: .value(0)),
            TraceEvent(
                kind: .sendReceiveSkipSearch, pid: client, start: 20, end: 60, args: [Int64(server), -1, Int64(reply)],
                message: request, result: .value(0)),
        ]
    }

    static func names(_ events: [TraceEvent]) -> [String] { events.map { "\($0.kind.name) \($0.pid)" } }

    @Test func aCombinedEventIsReadAsASendHalfBeforeTheReceiveAndAReturnInItsPlace() throws {
        let file = try TraceSamples.write(Self.exchange(), header: Self.oneZero)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let reader = try TraceReader(bytes: file.bytes)
        let (read, stop) = TraceSamples.readAll(reader)
        guard case .complete(let summary) = stop else { throw TraceFormatError(.usage, offset: 0, "\(stop)") }
        #expect(summary.eventCount == 5)
        #expect(reader.eventsRead == 6)
        #expect(
            Self.names(read) == [
                "create_data 1", "send_receive_skip_search 1", "receive 2", "create_data 2", "send 2",
                "send_receive_skip_search_return 1",
            ])
        let half = read[1], ret = read[5]
        #expect(half.args == [2, -1] && half.message == 10 && half.result == .none && half.start == 20 && half.end == 20)
        #expect(ret.args == [2, -1, 10] && ret.message == 11 && ret.result == .value(0) && ret.start == 20 && ret.end == 60)
    }

    @Test func aTimedOutCallIsSplitInPlace() throws {
        let events = [
            TraceEvent(kind: .createData, pid: 1, start: 10, args: [5, 0], message: 10),
            TraceEvent(
                kind: .sendReceiveSkipSearch, pid: 1, start: 20, end: 70, args: [2, 50, 0], message: 10,
                result: .value(Int64(ResultCode.timeout))),
            TraceEvent(kind: .receive, pid: 2, start: 5, end: 80, args: [-1], message: 10, result: .value(0)),
        ]
        let file = try TraceSamples.write(events, header: Self.oneZero)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let (read, _) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(
            Self.names(read) == ["create_data 1", "send_receive_skip_search 1", "send_receive_skip_search_return 1", "receive 2"])
        #expect(read[2].message == 0 && read[2].result == .value(Int64(ResultCode.timeout)))
    }

    @Test func aFileOfTheCurrentFormatIsReadAsStored() throws {
        // A kind-16 event with a value result in a 1.1+ file is not a 1.0 call: nothing moves.
        let events = Self.exchange()
        let file = try TraceSamples.write(events)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let (read, _) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(read == events)
    }

    @Test func holdsSpanBlocksAndInterleavedCalls() throws {
        // Three clients whose requests are all received before any call returns.
        var events: [TraceEvent] = []
        for c: ProcessID in 1...3 {
            events.append(TraceEvent(kind: .createData, pid: c, start: c, args: [5, 0], message: 100 + c))
        }
        for c: ProcessID in 1...3 {
            events.append(
                TraceEvent(kind: .receive, pid: 9, start: 10, end: 20 + c, args: [-1], message: 100 + c, result: .value(0)))
        }
        for c: ProcessID in [2, 3, 1] {
            events.append(TraceEvent(kind: .createData, pid: 9, start: 30, args: [6, 0], message: 200 + c))
            events.append(TraceEvent(kind: .send, pid: 9, start: 31, args: [Int64(c)], message: 200 + c, result: .value(0)))
            events.append(
                TraceEvent(
                    kind: .sendReceiveSkipSearch, pid: c, start: 5, end: 40, args: [9, -1, Int64(200 + c)],
                    message: 100 + c, result: .value(0)))
        }
        let file = try TraceSamples.write(events, header: Self.oneZero, options: .init(eventsPerBlock: 2))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let (read, _) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(read.count == events.count + 3)
        for c: ProcessID in 1...3 {
            let half = try #require(read.firstIndex { $0.kind == .sendReceiveSkipSearch && $0.pid == c })
            let taken = try #require(read.firstIndex { $0.kind == .receive && $0.message == 100 + c })
            let ret = try #require(read.firstIndex { $0.kind == .sendReceiveSkipSearchReturn && $0.pid == c })
            #expect(half + 1 == taken, "client \(c)")
            #expect(ret > taken)
        }
    }

    @Test func damageAfterAHoldStillHandsOutTheEventsBeforeIt() throws {
        // The call never returns in the file: the hold is let go at the damage, then the error.
        var events = Array(Self.exchange().dropLast())
        events += (0..<40).map { TraceEvent(kind: .getTag, pid: 3, start: 100 + UInt64($0), result: .value(1)) }
        let file = try TraceSamples.write(events, header: Self.oneZero, options: .init(eventsPerBlock: 8))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let reader = try TraceReader(bytes: file.bytes)
        let index = try #require(reader.blockIndex)
        var bytes = file.bytes
        bytes[Int(index[3].frameOffset) + 12] ^= 0xFF  // inside the fourth block's compressed data
        let damaged = try TraceReader(bytes: bytes)
        let (read, stop) = TraceSamples.readAll(damaged)
        #expect(read == Array(events.prefix(24)))
        guard case .damaged(let error) = stop else {
            Issue.record("expected damage, got \(stop)")
            return
        }
        #expect(error.offset == index[3].frameOffset)
    }

    @Test func aHoldLongerThanTheBoundIsLetGo() throws {
        // A receive of a message no event sends, then more events than a hold may keep.
        let n = SkipSearchSplitter.maxHeld + 10
        var events = [TraceEvent(kind: .receive, pid: 2, start: 1, end: 2, args: [-1], message: 77, result: .value(0))]
        events += (0..<n).map { TraceEvent(kind: .getTag, pid: 3, start: 3 + UInt64($0), result: .value(1)) }
        var splitter = SkipSearchSplitter()
        var out: [TraceEvent] = []
        var firstOutAfter: Int?
        for (i, e) in events.enumerated() {
            splitter.push(e)
            while let e = splitter.pop() {
                out.append(e)
                if firstOutAfter == nil { firstOutAfter = i }
            }
        }
        splitter.finish()
        while let e = splitter.pop() { out.append(e) }
        #expect(out == events)
        #expect(firstOutAfter == SkipSearchSplitter.maxHeld, "the hold was let go once it held the bound")
    }

    @Test func seekingToAnEventReadsAOneZeroFileFromItsStart() throws {
        let file = try TraceSamples.write(
            Self.exchange() + Self.exchange(client: 3, server: 4, request: 20, reply: 21),
            header: Self.oneZero, options: .init(eventsPerBlock: 3))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let all = TraceSamples.readAll(try TraceReader(path: file.path)).0
        #expect(all.count == 12)
        let reader = try TraceReader(path: file.path)
        for i in [7, 1, 11, 0] {
            try reader.seek(toEvent: UInt64(i))
            #expect(reader.eventsRead == UInt64(i))
            #expect(try reader.next() == all[i], "event \(i)")
        }
        #expect(throws: TraceFormatError.self) { try reader.seek(toEvent: 12) }
        do {
            try reader.seek(toBlock: 1)
            Issue.record("seek(toBlock:) accepted on a 1.0 file")
        } catch {
            #expect(error.kind == .usage)
        }
    }
}
