import ConformanceKit
import Foundation
import LunaTestSupport
import Testing
import TraceFormat

/// A trace without its closing summary (a crashed or killed recorder, a cut file) never passes
/// silently: replay fails it naming what was recovered and where the cut is, unless allowed.
@Suite("Incomplete traces in replay")
struct IncompleteTraceTests {
    /// A closed trace of `events` cut to its first `keep(bytes)` bytes.
    static func cutTrace(_ events: [TraceEvent], keep: (Data) -> Int) throws -> String {
        let dir = try Scratch.makeDirectory("luna-incomplete")
        let path = dir.appendingPathComponent("cut.trace").path
        let writer = try TraceWriter(path: path, header: TraceHeader(producer: "tests"))
        for e in events { writer.record(e) }
        try writer.close()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(keep(bytes)).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func replay(_ path: String, allow: Bool) -> TraceOutcome {
        var runner = ConformanceRunner(
            adapter: .init(command: TestSupport.pythonAdapter),
            replay: .init(callTimeout: 1, traceTimeout: 30))
        runner.allowIncomplete = allow
        return runner.run([TraceSource.file(path)]).outcomes[0]
    }

    @Test("a trace with no events and no summary fails, naming the cut")
    func emptyWithoutSummary() throws {
        // Keep the header frame only: 8 bytes of magic and size, then its content.
        let path = try Self.cutTrace([]) { b in 8 + Int(b[4]) + Int(b[5]) << 8 }
        let outcome = Self.replay(path, allow: false)
        #expect(outcome.status == .failed)
        #expect(outcome.note.contains("incomplete trace"), "\(outcome.note)")
        #expect(outcome.note.contains("0 events recovered"))
        #expect(outcome.note.contains("cut at byte"))
    }

    @Test("a trace cut before its index and summary fails unless incomplete traces are allowed")
    func cutBeforeSummary() throws {
        let events = ScenarioTraces.selectiveReceive()
        let path = try Self.cutTrace(events) { $0.count - 60 - 8 - 8 - 32 - 4 }  // summary, one-entry index
        let refused = Self.replay(path, allow: false)
        #expect(refused.status == .failed)
        #expect(refused.note.contains("\(events.count) events recovered"), "\(refused.note)")
        #expect(refused.requestCount == 0)
        let allowed = Self.replay(path, allow: true)
        #expect(allowed.status == .passed, "\(allowed.note) \(allowed.divergences)")
        #expect(allowed.note.contains("incomplete trace"))
    }
}
