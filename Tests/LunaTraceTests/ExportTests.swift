import Foundation
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// Checks a Chrome Trace Event document: it parses, and every flow start has exactly one
/// finish with the same id, from the sender's track to the receiver's.
func checkChromeDocument(_ text: String) throws -> (events: [[String: Any]], flows: [(from: Int, to: Int)]) {
    let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    let events = try #require(root["traceEvents"] as? [[String: Any]])
    var starts: [Int: [String: Any]] = [:]
    var finishes: [Int: [String: Any]] = [:]
    for e in events {
        guard let ph = e["ph"] as? String, ph == "s" || ph == "f" else { continue }
        let id = try #require(e["id"] as? Int)
        if ph == "s" {
            #expect(starts[id] == nil, "flow id \(id) started twice")
            starts[id] = e
        } else {
            #expect(finishes[id] == nil, "flow id \(id) finished twice")
            finishes[id] = e
        }
    }
    #expect(Set(starts.keys) == Set(finishes.keys))
    let flows = starts.keys.sorted().compactMap { id -> (Int, Int)? in
        guard let s = starts[id], let f = finishes[id] else { return nil }
        return (s["tid"] as? Int ?? -1, f["tid"] as? Int ?? -1)
    }
    return (events, flows)
}

@Suite("export: Chrome Trace Event JSON and Mermaid")
struct ExportTests {
    @Test("chrome: parses, one named track per process, slices for calls, matched flow pairs")
    func chrome() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["export", file, "--format", "chrome"])
        #expect(r.code == 0)
        let (events, flows) = try checkChromeDocument(r.out)
        // m1 was the only message received: one arrow from main (1) to worker (2).
        #expect(flows.count == 1)
        #expect(flows.first?.from == 1 && flows.first?.to == 2)
        let names = events.filter { $0["name"] as? String == "thread_name" }
            .compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        #expect(names.contains("pid 2 (worker)"))
        let receive = events.first { $0["name"] as? String == "receive" && $0["ph"] as? String == "X" }
        #expect((receive?["dur"] as? Double) == 2000.0)
    }

    @Test("chrome to a file with -o")
    func chromeToFile() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let out = dir.appendingPathComponent("trace.json")
        let r = TraceFixtures.run(["export", file, "--format", "chrome", "-o", out.path])
        #expect(r.code == 0)
        #expect(r.out.isEmpty)
        _ = try checkChromeDocument(try String(contentsOf: out, encoding: .utf8))
    }

    @Test("mermaid: the expected arrows, -x for sends to missing or ended processes, bounded by --limit")
    func mermaid() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["export", file, "--format", "mermaid"])
        #expect(r.code == 0)
        let text = r.out
        #expect(text.hasPrefix("sequenceDiagram\n"))
        #expect(text.contains("participant P2 as pid 2 worker"))
        #expect(text.contains("P1-->>P2: spawn worker"))
        #expect(text.contains("P1->>P2: m1 tag 7 12B +2 res"))
        #expect(text.contains("Note over P2: received m1 tag 7 12B +2 res after 2.00ms"))
        #expect(text.contains("Note over P2: receive tags 9 timed out after 10.00ms"))
        #expect(text.contains("P1-xP9: m4 tag 3 (no such process)"))
        #expect(text.contains("P1-xP3: m5 tag 4 (no such process)"))
        #expect(text.contains("Note over P2: exit failure unreachable"))

        let short = TraceFixtures.run(["export", file, "--format", "mermaid", "--limit", "3"])
        let statements = short.out.split(separator: "\n").filter { !$0.contains("participant") && $0 != "sequenceDiagram" }
        #expect(statements.count == 4)
        #expect(statements.last?.contains("more interactions not shown (--limit 3)") == true)
    }
}

@Suite("verify: integrity and recovery")
struct VerifyTests {
    private func bigTrace(in dir: URL) throws -> (URL, TraceSummary) {
        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "a")
        s.spawn(parent: 0, child: 2, entry: "b")
        for _ in 0..<4000 {
            let m = s.create(1, tag: 1)
            s.write(1, Array(repeating: 7, count: 32))
            s.send(1, to: 2)
            s.receive(2, m, waitMs: 0.01)
            s.read(2, 32)
        }
        let url = dir.appendingPathComponent("big.trace")
        let summary = try TraceFixtures.write(s.events, to: url, eventsPerBlock: 1000)
        return (url, summary)
    }

    @Test("an intact trace verifies: exit 0 and the summary")
    func intact() throws {
        let dir = try TraceFixtures.directory()
        let (url, summary) = try bigTrace(in: dir)
        let r = TraceFixtures.run(["verify", url.path])
        #expect(r.code == 0)
        #expect(r.out.contains("ok: complete, \(summary.eventCount) events in \(summary.blockCount) blocks"))
    }

    @Test("a format 1.0 file verifies, and says that its skip-search calls were split when read")
    func formatOneZero() throws {
        let dir = try TraceFixtures.directory()
        let url = dir.appendingPathComponent("one-zero.trace")
        let summary = try ScenarioBuilder.writeFormatOneZero(ScenarioBuilder.formatOneZeroSkipSearch().events, to: url)
        let r = TraceFixtures.run(["verify", url.path])
        #expect(r.code == 0, "\(r.out)")
        #expect(r.out.contains("format: 1.0"))
        #expect(r.out.contains("events read: \(summary.eventCount + 1)"))
        #expect(r.out.contains("the reader split 1 such event into a send half and a return"))
        #expect(r.out.contains("ok: complete, \(summary.eventCount) events"))
        let shown = TraceFixtures.run(["show", url.path, "--pid", "1"])
        #expect(shown.code == 0, "\(shown.err)")
        let lines = shown.out.split(separator: "\n").filter { $0.contains("send_receive_skip_search") }
        #expect(lines.count == 2, "\(shown.out)")
    }

    @Test("a file cut in half: exit 1, the last good offset and the recovered prefix")
    func cutInHalf() throws {
        let dir = try TraceFixtures.directory()
        let (url, summary) = try bigTrace(in: dir)
        let bytes = try Data(contentsOf: url)
        let half = dir.appendingPathComponent("half.trace")
        try bytes.prefix(bytes.count / 2).write(to: half)
        let r = TraceFixtures.run(["verify", half.path])
        #expect(r.code == 1)
        #expect(r.out.contains("incomplete:"))
        let recovered = try #require(Self.number(after: "recovered: ", in: r.out))
        let offset = try #require(Self.number(after: "last good offset: ", in: r.out))
        #expect(recovered > 0 && recovered < summary.eventCount)
        #expect(recovered % 1000 == 0)
        #expect(offset > 0 && offset <= UInt64(bytes.count / 2))
        // The other commands process the recovered prefix and warn.
        let stats = TraceFixtures.run(["stats", half.path])
        #expect(stats.code == 0)
        #expect(stats.out.contains("events: \(recovered)"))
        #expect(stats.err.contains("warning: \(half.path): trace incomplete"))
    }

    @Test("damaged bytes in the middle: verify reports where, show prints the prefix and exits 2")
    func damaged() throws {
        let dir = try TraceFixtures.directory()
        let (url, _) = try bigTrace(in: dir)
        var bytes = try Data(contentsOf: url)
        let middle = bytes.count / 2
        for i in middle..<(middle + 64) { bytes[i] ^= 0x5a }
        let bad = dir.appendingPathComponent("bad.trace")
        try bytes.write(to: bad)
        let v = TraceFixtures.run(["verify", bad.path])
        #expect(v.code == 1)
        #expect(v.out.contains("damaged:") || v.out.contains("incomplete:"))
        let recovered = try #require(Self.number(after: "recovered: ", in: v.out))
        #expect(recovered > 0)
        let show = TraceFixtures.run(["show", bad.path])
        #expect(show.code == 2 || show.code == 0)
        #expect(show.err.contains(bad.path))
        #expect(show.out.split(separator: "\n").count == Int(recovered))
    }

    @Test("not a trace: exit 2 with the file named")
    func notATrace() throws {
        let dir = try TraceFixtures.directory()
        let junk = dir.appendingPathComponent("junk.trace")
        try Data("this is not a trace at all, just text\n".utf8).write(to: junk)
        let r = TraceFixtures.run(["verify", junk.path])
        #expect(r.code == 2)
        #expect(r.err.contains(junk.path))
    }

    static func number(after prefix: String, in text: String) -> UInt64? {
        guard let range = text.range(of: prefix) else { return nil }
        return UInt64(text[range.upperBound...].prefix { $0.isNumber })
    }
}
