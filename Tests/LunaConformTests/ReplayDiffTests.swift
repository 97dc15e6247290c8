import ConformanceKit
import Foundation
import Testing
import TraceFormat

/// How the diff judges answers: rule attribution and first causes.
@Suite("The diff names first causes and rules")
struct ReplayDiffTests {
    static func ev(
        _ k: EventKind, _ pid: UInt64, _ args: EventArguments = [], tags: [Int64] = [], msg: MessageID = 0,
        payload: Payload = .none, result: CallResult = .none
    ) -> TraceEvent {
        TraceEvent(kind: k, pid: pid, args: args, tags: tags, message: msg, payload: payload, result: result)
    }

    @Test("after the first divergence, later ones of that process are consequences (duplicate-message)")
    func firstCauseFirst() throws {
        let source = try #require(TestSupport.scenarios.first { $0.name == "selective-receive" })
        let report = TestSupport.replay([source], TestSupport.builtinAdapter(["duplicate-message"]), callTimeout: 3)
        let outcome = try #require(report.outcomes.first)
        #expect(outcome.firstCauses.count == 1, "\(report.text())")
        #expect(outcome.firstCauses.first?.category == .unexpectedMessage)
        let later = outcome.divergences.dropFirst().filter { !$0.isConsequence }
        #expect(later.isEmpty)
        #expect(report.text().contains("first cause: event #"))
    }

    @Test("R-MSG-7: a trace where seek_data traps is judged against an adapter that does not trap")
    func trapMismatchRule() {
        let trace: [TraceEvent] = [
            Self.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            Self.ev(.createData, 1, [0, 0], msg: 1),
            Self.ev(.seekData, 1, [100], result: .trap("lunatic::message::seek_data")),
            Self.ev(.exit, 1, [1]),
        ]
        let report = TestSupport.replay([.events(trace, name: "seek")], TestSupport.pythonAdapter)
        let d = report.outcomes.first?.firstCauses.first
        #expect(d?.category == .trapMismatch)
        #expect(d?.rule == "R-MSG-7")
        #expect(d?.eventIndex == 2)
        #expect(d?.pid == 1)
        #expect(d?.call == "seek_data")
    }

    @Test("R-MSG-9/R-SEND-3: traps on an empty scratch area replay as traps; R-MSG-8 size is compared")
    func trapsThatMatch() {
        let trace: [TraceEvent] = [
            Self.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            Self.ev(.spawn, 0, [2, 0, 0, 0], result: .value(0)),
            Self.ev(.createData, 1, [4, 0], msg: 1),
            Self.ev(.writeData, 1, [3], payload: .digest(size: 3, xxh64: 0), result: .value(3)),
            Self.ev(.dataSize, 1, result: .value(3)),
            Self.ev(.send, 1, [2], msg: 1, result: .value(0)),
            Self.ev(.send, 1, [2], result: .trap("lunatic::message::send::no_message")),
            Self.ev(.exit, 1, [1]),
            Self.ev(.receive, 2, [-1], msg: 1, result: .value(0)),
            Self.ev(.dataSize, 2, result: .value(3)),
            Self.ev(.exit, 2, [0]),
        ]
        let report = TestSupport.replay([.events(trace, name: "empty-scratch")], TestSupport.pythonAdapter)
        #expect(report.allPassed, "\(report.text())")
        var wrong = trace
        wrong[9] = Self.ev(.dataSize, 2, result: .value(4))
        let bad = TestSupport.replay([.events(wrong, name: "wrong-size")], TestSupport.pythonAdapter)
        #expect(bad.outcomes.first?.firstCauses.first?.rule == "R-MSG-8", "\(bad.text())")
        #expect(bad.outcomes.first?.firstCauses.first?.category == .wrongData)
    }

    @Test("R-SEND-1: a message the trace delivers but the implementation never got is a lost message")
    func lostMessage() {
        // The trace claims process 2 received a message that process 1 never sent.
        let trace: [TraceEvent] = [
            Self.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            Self.ev(.spawn, 0, [2, 0, 0, 0], result: .value(0)),
            Self.ev(.createData, 1, [4, 0], msg: 1),
            Self.ev(.receive, 2, [50], msg: 1, result: .value(0)),
        ]
        let report = TestSupport.replay([.events(trace, name: "lost")], TestSupport.pythonAdapter)
        let d = report.outcomes.first?.divergences.first
        #expect(d?.category == .lostMessage, "\(report.text())")
        #expect(d?.rule == "R-SEND-1")
    }
}

@Suite("JSON lines from adapters")
struct JSONParserTests {
    @Test("parses protocol objects, exact 64-bit integers and escapes")
    func parses() throws {
        let v = try JSONParser.parse(
            #"{"id": 9223372036854775807, "n": -9223372036854775808, "s": "a\"b\u00e9\n", "a": [1, 2.5, null, true]}"#)
        #expect(v["id"]?.int == Int64.max)
        #expect(v["n"]?.int == Int64.min)
        #expect(v["s"]?.string == "a\"bé\n")
        #expect(v["a"]?.array?.count == 4)
        let again = try JSONParser.parse(v.serialized)
        #expect(again == v)
    }

    @Test("a high surrogate escape not followed by a low one reads as U+FFFD (found by fuzzing: it trapped)")
    func loneSurrogates() throws {
        let v = try JSONParser.parse(#"{"a":"\ud83d\u00ed","b":"\ud83d\ud83d\ude00","c":"\udc00x","d":"\ud83d"}"#)
        #expect(v["a"]?.string == "\u{FFFD}í")
        #expect(v["b"]?.string == "\u{FFFD}😀")
        #expect(v["c"]?.string == "\u{FFFD}x")
        #expect(v["d"]?.string == "\u{FFFD}")
        #expect(try JSONParser.parse(v.serialized) == v)
    }

    @Test("rejects garbage with the byte offset", arguments: ["", "{", "{\"a\":}", "[1,]", "nul", "\"open", "{} x", "{\"a\" 1}"])
    func rejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test("hex round trip and rejection")
    func hex() {
        #expect(Hex.encode([0, 255, 16]) == "00ff10")
        #expect(Hex.decode("00ff10") == [0, 255, 16])
        #expect(Hex.decode("0") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
