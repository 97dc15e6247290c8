import Foundation
import LunaSupport
import Testing

@testable import TraceFormat

/// Payload references (format 1.3): an event whose bytes equal a recent payload of its block
/// stores "the k-th most recent" instead of the bytes. Whatever the events, the reader must give
/// back exactly what was recorded, and a reference that does not resolve must be damage.
@Suite struct PayloadReferenceTests {
    /// Random events drawing payloads from a small pool (so most repeat, at every distance),
    /// with sizes around the lookup limit and the window, through both encoder paths.
    private func randomEvents(seed: UInt64, count: Int) -> [TraceEvent] {
        var rng = SplitMix(seed: seed)
        let sizes = [0, 1, 7, 8, 9, 16, 31, 64, 200, PayloadReference.maxLookupBytes, PayloadReference.maxLookupBytes + 1, 3000]
        let pool: [[UInt8]] = (0..<40).map { _ in
            let n = sizes[Int.random(in: 0..<sizes.count, using: &rng)]
            return (0..<n).map { _ in UInt8.random(in: 0...3, using: &rng) }
        }
        var t: UInt64 = 1000
        return (0..<count).map { i in
            t += UInt64.random(in: 0...500, using: &rng)
            let payload: Payload
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: payload = .none
            case 1: payload = .digest(size: 77, xxh64: 0xFEED)
            case 2:
                payload = .bytes((0..<Int.random(in: 1...24, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            default: payload = .bytes(pool[Int.random(in: 0..<pool.count, using: &rng)])
            }
            // Some events take the general path (tags, text or a trap), the rest the plain one.
            let general = Int.random(in: 0..<4, using: &rng) == 0
            return TraceEvent(
                kind: [.writeData, .readData, .send, .receive][i % 4], pid: UInt64.random(in: 1...5, using: &rng),
                start: t, end: t + UInt64.random(in: 0...90, using: &rng), args: [Int64(i)],
                tags: general ? [1, 2] : [], message: UInt64(i / 3 + 1), payload: payload,
                text: general && i % 2 == 0 ? "text" : "", result: general && i % 3 == 0 ? .trap("boom") : .value(0))
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomRepeatingPayloadsRoundTripInEveryBlockSize(seed: UInt64) throws {
        let events = randomEvents(seed: seed, count: 3000)
        for eventsPerBlock in [1, 2, 37, 300, 16_384] {
            let file = try TraceSamples.write(events, options: .init(eventsPerBlock: eventsPerBlock))
            defer { try? FileManager.default.removeItem(atPath: file.path) }
            let (read, stop) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
            expectSame(read, events, "seed \(seed), \(eventsPerBlock) events per block")
            guard case .complete = stop else {
                Issue.record("expected a complete trace, got \(stop)")
                continue
            }
        }
    }

    /// The plain path (`EventRecord` + borrowed bytes), as the runtime records data calls.
    @Test func recordsWithBorrowedPayloadsRoundTrip() throws {
        let events = randomEvents(seed: 99, count: 2000).map { e -> TraceEvent in
            var plain = e
            plain.tags = []
            plain.text = ""
            plain.result = .value(1)
            if case .digest = e.payload { plain.payload = .none }
            return plain
        }
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try TraceWriter(
            path: path, header: TraceHeader(producer: "tests", timeUnitNanos: 1), options: .init(eventsPerBlock: 500))
        for e in events {
            let record = try #require(EventRecord(plain: e))
            switch e.payload {
            case .bytes(let b): b.withUnsafeBytes { w.record(record, payload: $0) }
            default: w.record(record, payload: nil)
            }
        }
        try w.close()
        let (read, _) = TraceSamples.readAll(try TraceReader(path: path))
        expectSame(read, events, "borrowed payloads")
    }

    @Test func referencesReachExactlyTheWindow() throws {
        // Payload A, then `gap` distinct payloads, then A again: a reference at distance
        // gap + 1 while that is within the window, written out beyond it.
        for gap in [0, 1, PayloadReference.window - 2, PayloadReference.window - 1, PayloadReference.window, 400] {
            var enc = BlockEncoder(unit: 1, capacity: 1 << 16, timesInColumn: true)
            let a: [UInt8] = Array(repeating: 0xA5, count: 20)
            var events = [TraceEvent(kind: .writeData, pid: 1, payload: .bytes(a))]
            for i in 0..<gap {
                events.append(TraceEvent(kind: .writeData, pid: 1, payload: .bytes(withUnsafeBytes(of: UInt64(i)) { Array($0) })))
            }
            events.append(TraceEvent(kind: .readData, pid: 2, payload: .bytes(a)))
            for e in events { enc.encode(e) }
            let raw = enc.bytes(enc.finish(firstEventIndex: 0))
            let decoded = try decodeBlock(raw)
            #expect(decoded == events, "gap \(gap)")
            // The last record stores the 20 bytes only when the reference cannot reach.
            let copies = (0...(raw.count - 21)).filter { raw[$0..<($0 + 21)].elementsEqual([20] + a) }.count
            #expect(copies == (gap + 1 > PayloadReference.window ? 2 : 1), "gap \(gap)")
        }
    }

    @Test func repeatedBodiesAreStoredOnce() throws {
        var enc = BlockEncoder(unit: 1, capacity: 1 << 16, timesInColumn: true)
        let body = [UInt8](repeating: 9, count: 100)
        for i in 0..<1000 {
            enc.encode(TraceEvent(kind: i % 2 == 0 ? .writeData : .readData, pid: 1 + UInt64(i % 3), payload: .bytes(body)))
        }
        // One copy of the bytes; every other event is a few bytes.
        #expect(enc.bodyBytes < 100 + 1000 * 12)
    }

    @Test func aReferenceThatDoesNotResolveIsDamage() throws {
        // Hand-made format 1.x blocks (times inside the records; references work alike in 2.0): get_tag with no payload plus a reference after its fields.
        func block(_ trailing: [[UInt8]]) -> [UInt8] {
            var w = ByteWriter()
            w.varint(TraceLayout.blockStartCode)
            w.varint(2)
            w.varint(UInt64(trailing.count))
            w.varint(0)
            for extra in trailing {
                // flags 0 (no payload), pid 1, times 0 0, then `extra`.
                let body: [UInt8] = [0, 1, 0, 0] + extra
                w.varint(UInt64(EventKind.readData.rawValue))
                w.varint(UInt64(body.count))
                w.raw(body)
            }
            return w.bytes
        }
        let literal: [UInt8] = [1 << 3, 1, 0, 0, 2, 0xAB, 0xCD]  // payload bytes AB CD
        for (raw, ok) in [
            (block([[1]]), false),  // k = 1 with no payload before it
            (block([[0]]), true),  // 0 = no reference
            (block([[0x81, 0x02]]), false),  // k = 257: past the window
        ] {
            let decodes = (try? decodeBlock(raw, timesInColumn: false)) != nil
            #expect(decodes == ok)
        }
        // A literal then k = 1: the same bytes; a literal then k = 2: before the first payload.
        var w = ByteWriter()
        w.varint(TraceLayout.blockStartCode)
        w.varint(2)
        w.varint(2)
        w.varint(0)
        for rec in [literal, [0, 1, 0, 0, 1]] {
            w.varint(UInt64(EventKind.readData.rawValue))
            w.varint(UInt64(rec.count))
            w.raw(rec)
        }
        let events = try decodeBlock(w.bytes, timesInColumn: false)
        #expect(events.map(\.payload) == [.bytes([0xAB, 0xCD]), .bytes([0xAB, 0xCD])])
        var bad = w.bytes
        bad[bad.count - 1] = 2
        #expect(throws: TraceFormatError.self) { try decodeBlock(bad, timesInColumn: false) }
        // A reference on an event that carries its own bytes is damage too.
        var both = ByteWriter()
        both.varint(TraceLayout.blockStartCode)
        both.varint(2)
        both.varint(2)
        both.varint(0)
        for rec in [literal, literal + [1]] {
            both.varint(UInt64(EventKind.readData.rawValue))
            both.varint(UInt64(rec.count))
            both.raw(rec)
        }
        #expect(throws: TraceFormatError.self) { try decodeBlock(both.bytes, timesInColumn: false) }
    }

    /// The first event that differs, rather than two whole lists of large payloads.
    private func expectSame(_ read: [TraceEvent], _ written: [TraceEvent], _ what: String) {
        #expect(read.count == written.count, "\(what): event count")
        if let i = read.indices.first(where: { $0 < written.count && read[$0] != written[$0] }) {
            Issue.record("\(what): event \(i) differs: read \(read[i]) written \(written[i])")
        }
    }

    /// Decodes one raw block (block-start record first) into its events.
    private func decodeBlock(_ raw: [UInt8], timesInColumn: Bool = true) throws -> [TraceEvent] {
        try raw.withUnsafeBytes { buf in
            var r = ByteReader(buf, from: 0, to: buf.count, base: 0)
            var d = BlockDecoder(unit: 1, timesInColumn: timesInColumn)
            let (n, _) = try d.begin(&r)
            var out: [TraceEvent] = []
            while !r.atEnd {
                if let e = try d.next(&r) { out.append(e) }
            }
            #expect(UInt64(out.count) == n)
            return out
        }
    }
}
