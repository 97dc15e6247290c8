import Foundation
import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// Events that no runtime would record (wild ids, times, argument counts) must never crash
/// an analysis: the trace may come from a broken or foreign implementation.
@Suite("bad input: arbitrary events through every analysis")
struct BadInputTests {
    static func randomEvents(count: Int, seed: UInt64) -> [TraceEvent] {
        var rng = SplitMix(seed: seed)
        let kinds = EventKind.allKnown + [EventKind(rawValue: 999)]
        let extremes: [Int64] = [0, 1, 2, 3, -1, .max, .min, 9027, 42]
        func value() -> Int64 {
            Bool.random(using: &rng) ? extremes.randomElement(using: &rng)! : Int64.random(in: -5...12, using: &rng)
        }
        var events: [TraceEvent] = []
        for _ in 0..<count {
            let kind = kinds.randomElement(using: &rng)!
            let argc = Int.random(in: 0...6, using: &rng)
            let start =
                Bool.random(using: &rng)
                ? UInt64.random(in: 0...1_000_000, using: &rng) : [0, .max, .max - 1].randomElement(using: &rng)!
            let end = Bool.random(using: &rng) ? start : UInt64.random(in: 0...UInt64.max, using: &rng)
            let results: [CallResult] = [.none, .value(value()), .trap("lunatic::message::x")]
            events.append(
                TraceEvent(
                    kind: kind, pid: UInt64.random(in: 0...6, using: &rng), start: start, end: end,
                    args: EventArguments((0..<argc).map { _ in value() }),
                    tags: Bool.random(using: &rng) ? [] : [value(), value()],
                    message: Bool.random(using: &rng) ? 0 : UInt64.random(in: 0...8, using: &rng),
                    payload: Bool.random(using: &rng) ? .none : .bytes([1, 2, 3]),
                    text: Bool.random(using: &rng) ? "" : "x;#\n\"y",
                    result: results.randomElement(using: &rng)!))
        }
        return events
    }

    @Test(
        "tracker, stats, lint, exporters and the line formatter survive 3 × 20,000 random events",
        arguments: [1, 2, 3] as [UInt64])
    func randomEvents(seed: UInt64) {
        let events = Self.randomEvents(count: 20_000, seed: seed)
        let tracker = MessageTracker(settleWindow: 16)
        var lives = 0
        tracker.onLifeEnded = { life in
            lives += 1
            _ = MessageFlowReport.lines(life, processes: tracker.processes)
        }
        let stats = TraceStatistics()
        let lint = LostMessageLint(nearMissWindow: 1000)
        let chromeOut = StringOutput(), mermaidOut = StringOutput(), statsOut = StringOutput(), lintOut = StringOutput()
        let chrome = ChromeTraceExporter(out: chromeOut)
        let mermaid = MermaidExporter(out: mermaidOut, limit: 100)
        for e in events {
            let a = tracker.observe(e)
            _ = EventLineFormatter.line(e, attribution: a)
            stats.observe(e)
            lint.observe(e)
            chrome.observe(e)
            mermaid.observe(e)
        }
        tracker.finish()
        lint.finish()
        chrome.finish()
        mermaid.finish()
        stats.write(to: statsOut, processLimit: 10)
        lint.write(to: lintOut)
        #expect(lives > 0)
        #expect(chromeOut.text.hasSuffix("]}\n"))
        #expect((try? JSONSerialization.jsonObject(with: Data(chromeOut.text.utf8))) != nil, "the Chrome JSON stays valid")
        #expect(statsOut.text.contains("events: 20000"))
    }
}
