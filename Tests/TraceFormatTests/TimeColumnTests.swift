import Foundation
import LunaSupport
import Testing

@testable import TraceFormat

/// Format 2.0 keeps a block's times in a column after its events (docs/TRACE_FORMAT.md 5.4).
/// The writer still writes 1.x for a header that asks for it; both must read back the same
/// events, and a damaged column must be reported, never misread.
@Suite struct TimeColumnTests {
    /// Random events of a few processes with jittery times, some large deltas, some
    /// out-of-order starts (a receive that began before the previous event ended), payloads
    /// and results.
    static func randomEvents(_ count: Int, seed: UInt64) -> [TraceEvent] {
        var rng = SplitMix(seed: seed)
        var clock: [UInt64: UInt64] = [:]
        var out: [TraceEvent] = []
        for i in 0..<count {
            let pid = 1 + rng.next() % 5
            var t = clock[pid, default: rng.next() % 100_000]
            switch rng.next() % 10 {
            case 0: t &+= rng.next() % (1 << 40)  // a long pause
            case 1: t = t > 5_000 ? t - rng.next() % 5_000 : t  // starts before the last end
            default: t &+= 100 + rng.next() % 900
            }
            let end = t &+ rng.next() % 2_000
            clock[pid] = end
            var e = TraceEvent(
                kind: EventKind(rawValue: UInt16(1 + rng.next() % 20)), pid: pid, start: t, end: end,
                args: rng.next() % 2 == 0 ? [Int64(i), -3] : [], message: rng.next() % 3 == 0 ? UInt64(i) : 0)
            if rng.next() % 4 == 0 { e.payload = .bytes((0..<Int(rng.next() % 24)).map { _ in UInt8(rng.next() % 4) }) }
            if rng.next() % 3 == 0 { e.result = .value(Int64(rng.next() % 7) - 3) }
            out.append(e)
        }
        return out
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func writtenAsTwoZeroOrOneThreeTheEventsReadBackTheSame(seed: UInt64) throws {
        let events = Self.randomEvents(3_000, seed: seed)
        for unit in [1, 100] as [UInt64] {
            for eventsPerBlock in [1, 7, 512, 32_768] {
                for (major, minor) in [(2, 0), (1, 3)] as [(UInt16, UInt16)] {
                    let header = TraceHeader(timeUnitNanos: unit, formatMajor: major, formatMinor: minor)
                    let file = try TraceSamples.write(events, header: header, options: .init(eventsPerBlock: eventsPerBlock))
                    defer { try? FileManager.default.removeItem(atPath: file.path) }
                    let reader = try TraceReader(bytes: file.bytes)
                    #expect(reader.header.formatMajor == major)
                    let (read, stop) = TraceSamples.readAll(reader)
                    let expected = events.map { e -> TraceEvent in
                        var e = e
                        e.start = e.start / unit * unit
                        e.end = e.end / unit * unit
                        return e
                    }
                    let what = "format \(major).\(minor), unit \(unit), \(eventsPerBlock) per block"
                    #expect(read.count == expected.count, "\(what)")
                    if let i = read.indices.first(where: { $0 < expected.count && read[$0] != expected[$0] }) {
                        Issue.record("\(what): event \(i) reads \(read[i]), was \(expected[i])")
                    }
                    if case .complete = stop {} else { Issue.record("\(what): \(stop)") }
                }
            }
        }
    }

    @Test func aFlightRecordersDumpHasTheTimeColumnToo() throws {
        let events = Self.randomEvents(2_000, seed: 9)
        for major in [1, 2] as [UInt16] {
            let recorder = FlightRecorder(
                header: TraceHeader(timeUnitNanos: 1, formatMajor: major, formatMinor: major == 1 ? 3 : 0),
                options: .init(capacityBytes: 1 << 20))
            for e in events { recorder.record(e) }
            let path = TraceSamples.temporaryPath()
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try recorder.dump(to: path, trigger: "test")
            let reader = try TraceReader(path: path)
            #expect(reader.header.formatMajor == major)
            let (read, _) = TraceSamples.readAll(reader)
            #expect(read.count == events.count, "format \(major)")
            if let i = read.indices.first(where: { $0 < events.count && read[$0] != events[$0] }) {
                Issue.record("format \(major): event \(i) reads \(read[i]), was \(events[i])")
            }
        }
    }

    @Test func theColumnHoldsTheTimesAndTheRecordsDoNot() throws {
        // One event, unit 1: start 300 (delta from 0), duration 44.
        let e = TraceEvent(kind: .getTag, pid: 3, start: 300, end: 344, result: .value(1))
        var enc = BlockEncoder(unit: 1, capacity: 64, timesInColumn: true)
        enc.encode(e)
        let raw = enc.bytes(enc.finish(firstEventIndex: 5))
        // block start: count 1, first 5, 5 event bytes; get_tag: flags 0x40, pid 3, result 1;
        // time column: code 65 536, 5 bytes: 2 bytes of starts, svarint 300 (D8 04), 44 (58).
        let kind = UInt8(EventKind.getTag.rawValue)
        #expect(
            raw == [0x00, 0x03, 0x01, 0x05, 0x05, kind, 0x03, 0x40, 0x03, 0x02, 0x80, 0x80, 0x04, 0x04, 0x02, 0xD8, 0x04, 0x58])
        #expect(try decode(raw) == [e])
    }

    /// A two-event block built by hand, with its parts open to damage.
    private func block(
        count: UInt64 = 2, eventBytes: Int? = nil, code: UInt64 = TraceLayout.timeColumnCode,
        starts: [UInt8] = [0x02, 0x04], durations: [UInt8] = [0x06, 0x08], startBytes: Int? = nil
    ) -> [UInt8] {
        var events = ByteWriter()
        for pid in [1, 2] as [UInt64] {
            events.varint(UInt64(EventKind.getTag.rawValue))
            events.varint(2)
            events.u8(0)
            events.varint(pid)
        }
        var w = ByteWriter()
        var start = ByteWriter()
        start.varint(count)
        start.varint(0)
        start.varint(UInt64(eventBytes ?? events.count))
        w.varint(TraceLayout.blockStartCode)
        w.varint(UInt64(start.count))
        w.raw(start.bytes)
        w.raw(events.bytes)
        var column = ByteWriter()
        column.varint(UInt64(startBytes ?? starts.count))
        column.raw(starts)
        column.raw(durations)
        w.varint(code)
        w.varint(UInt64(column.count))
        w.raw(column.bytes)
        return w.bytes
    }

    private func decode(_ raw: [UInt8]) throws -> [TraceEvent] {
        try raw.withUnsafeBytes { buf in
            var r = ByteReader(buf, base: 0)
            var d = BlockDecoder(unit: 1, timesInColumn: true)
            let (n, _) = try d.begin(&r)
            var out: [TraceEvent] = []
            while !r.atEnd {
                if let e = try d.next(&r) { out.append(e) }
            }
            guard UInt64(out.count) == n else { throw r.fail("\(out.count) events, \(n) declared") }
            return out
        }
    }

    @Test func aHandMadeBlockReads() throws {
        let events = try decode(block())
        #expect(events.map(\.start) == [1, 2] && events.map(\.end) == [4, 6])
    }

    @Test func aDamagedColumnIsBadEventNamingWhy() {
        let cases: [(String, [UInt8], String)] = [
            ("event bytes past the block", block(eventBytes: 200), "follow it"),
            ("event bytes short of the column", block(eventBytes: 4), "should start"),
            ("another record where the column should be", block(code: 0x1_0001), "should start"),
            ("a column too short for its events", block(starts: [0x02], durations: [0x06]), "too short"),
            ("start bytes past the column", block(startBytes: 9), "exceeds"),
            ("a time running past its half", block(starts: [0x82, 0x84]), ""),
            ("bytes left after the last event's times", block(durations: [0x06, 0x08, 0x00]), "after the block's last event"),
            ("more events than the block start declares", block(count: 1), ""),
        ]
        for (what, raw, says) in cases {
            do {
                let events = try decode(raw)
                Issue.record("\(what): read \(events.count) events")
            } catch let error as TraceFormatError {
                #expect(error.kind == .badEvent, "\(what)")
                #expect(says.isEmpty || error.detail.contains(says), "\(what): \(error.detail)")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
    }
}
