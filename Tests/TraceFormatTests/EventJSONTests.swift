import Testing

@testable import TraceFormat

@Suite struct EventJSONTests {
    @Test func documentedExampleLine() {
        let e = TraceEvent(kind: .createData, pid: 1, start: 100, end: 180, args: [7, 64], message: 1, result: .value(0))
        #expect(
            EventJSON.line(e, index: 0)
                == #"{"i":0,"kind":"create_data","pid":1,"start":100,"end":180,"args":[7,64],"message":1,"result":{"value":0}}"#)
        let r = TraceEvent(
            kind: .receive, pid: 2, start: 5, end: 9, args: [-1], tags: [7, -3],
            payload: .digest(size: 3, xxh64: 0xAB), text: "a\"b\n", result: .trap("lunatic::message::receive"))
        #expect(
            EventJSON.line(r)
                == #"{"kind":"receive","pid":2,"start":5,"end":9,"args":[-1],"tags":[7,-3],"payload":{"size":3,"xxh64":"00000000000000ab"},"text":"a\"b\n","result":{"trap":"lunatic::message::receive"}}"#
        )
        #expect(
            EventJSON.line(TraceEvent(kind: .writeData, pid: 3, payload: .bytes([0, 0xFF, 0x10])))
                == #"{"kind":"write_data","pid":3,"start":0,"end":0,"payload":"00ff10"}"#)
    }

    @Test func everyKindRoundTrips() throws {
        for e in TraceSamples.everyKind {
            let line = EventJSON.line(e, index: 42)
            #expect(!line.contains("\n"))
            #expect(try EventJSON.parse(line) == e)
        }
    }

    @Test func unknownKindsKeepTheirCode() throws {
        let e = TraceEvent(kind: EventKind(rawValue: 60_000), pid: 9)
        #expect(EventJSON.line(e).contains(#""kind":"kind_60000""#))
        #expect(try EventJSON.parse(EventJSON.line(e)).kind.rawValue == 60_000)
    }

    @Test("the 64-bit extremes round-trip exactly: unsigned ids above Int64.max, Int64.min arguments")
    func extremesRoundTrip() throws {
        let e = TraceEvent(
            kind: .send, pid: .max, start: .max - 1, end: .max, args: [.min, .max, -1],
            tags: [.min], message: UInt64(Int64.max) + 1, result: .value(.min))
        let line = EventJSON.line(e)
        #expect(line.contains(#""pid":18446744073709551615"#))
        #expect(try EventJSON.parse(line) == e)
        // Fractions, exponents and values past 64 bits are not integers of the format.
        for bad in [
            #"{"kind":"send","pid":1.0,"start":0,"end":0}"#, #"{"kind":"send","pid":1e3,"start":0,"end":0}"#,
            #"{"kind":"send","pid":18446744073709551616,"start":0,"end":0}"#,
            #"{"kind":"send","pid":1,"start":0,"end":0,"args":[9223372036854775808]}"#,
        ] {
            #expect(throws: EventJSONError.self, "\(bad)") { try EventJSON.parse(bad) }
        }
    }

    @Test func badLinesAreRejected() {
        for line in [
            "", "[]", "{}", #"{"kind":"nope","pid":1,"start":0,"end":0}"#,
            #"{"kind":"send","pid":-1,"start":0,"end":0}"#, #"{"kind":"send","pid":1,"start":0,"end":0,"payload":"xyz"}"#,
            #"{"kind":"send","pid":1,"start":0,"end":0"#,
        ] {
            #expect(throws: EventJSONError.self, "\(line)") { try EventJSON.parse(line) }
        }
    }
}
