import Foundation
import Testing

@testable import TraceFormat

/// The worked example of docs/TRACE_FORMAT.md §9, byte for byte.
@Suite struct WorkedExampleTests {
    static func hex(_ s: String) -> [UInt8] {
        let digits = s.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return digits.map { UInt8($0, radix: 16)! }
    }

    @Test func documentedBytes() throws {
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try TraceWriter(
            path: path,
            header: TraceHeader(
                producer: "luna", clock: "monotonic",
                wallClockStartNanos: 1_764_000_000_000_000_000,
                timeUnitNanos: 100, formatMajor: 1, formatMinor: 0))
        for e in Self.events { w.record(e) }
        #expect(try w.close().fileBytes == 208)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == 208)
        #expect(
            Array(bytes[0..<0x2D])
                == Self.hex(
                    """
                    50 2A 4D 18 25 00 00 00 4C 54 52 43 01 00 00 00 04 6C 75 6E 61
                    09 6D 6F 6E 6F 74 6F 6E 69 63 00 00 CA 67 A7 FC 7A 18 64 00 C4 D7 99 94
                    """))
        let raw = Self.hex(
            """
            00 02 03 00 01 0A 45 01 14 04 02 0E 80 01 02 00 0F 08 45 01 02 04 01 04 00 00
            11 0A 47 02 12 0E 01 01 01 0E 00 00
            """)
        #expect(try ZstdCLI.run(["-dc", path]).stdout == raw)
        #expect(
            Array(bytes[0x60...])
                == Self.hex(
                    """
                    51 2A 4D 18 2C 00 00 00 01 00 00 00 00 00 00 00
                    2D 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
                    03 00 00 00 33 00 00 00 E8 03 00 00 00 00 00 00 C9 48 A8 94
                    52 2A 4D 18 34 00 00 00 03 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00
                    26 00 00 00 00 00 00 00 D0 00 00 00 00 00 00 00
                    40 06 00 00 00 00 00 00 60 00 00 00 00 00 00 00 C1 C3 42 F5
                    """))
        let events = try RawEventStream.decode(raw, timeUnitNanos: 100, formatMajor: 1)
        #expect(events.map(\.end) == [1_200, 1_500, 1_600])
        #expect(
            EventJSON.line(events[0], index: 0)
                == #"{"i":0,"kind":"create_data","pid":1,"start":1000,"end":1200,"args":[7,64],"message":1,"result":{"value":0}}"#
        )
    }

    /// The same events written as 2.0: the raw block of §9's second listing.
    @Test func documentedTwoZeroBlock() throws {
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try TraceWriter(path: path, header: TraceHeader(producer: "luna", timeUnitNanos: 100))
        for e in Self.events { w.record(e) }
        try w.close()
        let raw = Self.hex(
            """
            00 03 03 00 1C 01 08 45 01 02 0E 80 01 02 00 0F 06 45 01 01 04 00 00
            11 08 47 02 01 01 01 0E 00 00 80 80 04 07 03 14 02 12 04 04 0E
            """)
        #expect(try ZstdCLI.run(["-dc", path]).stdout == raw)
        let rounded = Self.events.map { e -> TraceEvent in
            var e = e
            e.start = e.start / 100 * 100
            e.end = e.end / 100 * 100
            return e
        }
        #expect(try RawEventStream.decode(raw, timeUnitNanos: 100) == rounded)
        #expect(TraceSamples.readAll(try TraceReader(path: path)).0 == rounded)
    }

    static let events = [
        TraceEvent(kind: .createData, pid: 1, start: 1_000, end: 1_250, args: [7, 64], message: 1, result: .value(0)),
        TraceEvent(kind: .send, pid: 1, start: 1_300, end: 1_500, args: [2], message: 1, result: .value(0)),
        TraceEvent(kind: .receive, pid: 2, start: 900, end: 1_600, args: [-1], tags: [7], message: 1, result: .value(0)),
    ]
}
