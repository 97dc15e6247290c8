import ConformanceKit
import Foundation
import LunaRuntime
import LunaTestSupport
import Testing
import TraceFormat

/// Replay of `send_receive_skip_search` as trace format 1.1 records it (a send half, then a
/// return) against both adapters, of the format 1.0 combined form, and where reports point.
@Suite("send_receive_skip_search replay (R-RECV-7, R-RECV-8)")
struct SkipSearchReplayTests {
    /// Requests and replies both sent by skip-search after the first request.
    static func pingPong() -> [TraceEvent] {
        ScenarioTraces.record { ctx in
            let me = ctx.id
            let pong = try ctx.spawn(entry: "pong") { p in
                _ = try await p.receive(tags: [], timeoutMs: .max)
                for i in 0..<4 {
                    p.createData(tag: 6, capacity: 0)
                    _ = try p.writeData([UInt8(i)])
                    if i == 3 { _ = try p.send(to: me); return }
                    _ = try await p.sendReceiveSkipSearch(to: me, timeoutMs: 5_000)
                    _ = try p.readData(count: 4)
                }
            }
            for i in 0..<4 {
                ctx.createData(tag: 6, capacity: 0)
                _ = try ctx.writeData([UInt8(10 + i)])
                _ = try await ctx.sendReceiveSkipSearch(to: pong, timeoutMs: 5_000)
                _ = try ctx.readData(count: 4)
            }
        }
    }

    /// A skip-search times out; the reply comes only after a later message says so.
    static func lateReply() -> [TraceEvent] {
        ScenarioTraces.record { ctx in
            let me = ctx.id
            let server = try ctx.spawn(entry: "server") { s in
                _ = try await s.receive(tags: [4], timeoutMs: .max)
                _ = try await s.receive(tags: [5], timeoutMs: .max)
                s.createData(tag: 4, capacity: 0)
                _ = try s.writeData(Array("late".utf8))
                _ = try s.send(to: me)
            }
            ctx.createData(tag: 4, capacity: 0)
            _ = try await ctx.sendReceiveSkipSearch(to: server, timeoutMs: 40)
            ctx.createData(tag: 5, capacity: 0)
            _ = try ctx.send(to: server)
            _ = try await ctx.receive(tags: [4], timeoutMs: .max)
            _ = try ctx.readData(count: 8)
        }
    }

    /// A process killed while it waits in skip-search: a send half without a return.
    static func killedWhileWaiting() -> [TraceEvent] {
        ScenarioTraces.record { ctx in
            let me = ctx.id
            let waiter = try ctx.spawn(entry: "waiter") { w in
                w.createData(tag: 8, capacity: 0)
                _ = try w.writeData([42])
                _ = try await w.sendReceiveSkipSearch(to: me, timeoutMs: .max)
            }
            _ = try await ctx.receive(tags: [8], timeoutMs: .max)
            _ = try ctx.readData(count: 1)
            try ctx.kill(waiter)
        }
    }

    static var scenarios: [TraceSource] {
        [("ping-pong", pingPong()), ("late-reply", lateReply()), ("killed-while-waiting", killedWhileWaiting())]
            .map { TraceSource.events($0.1, name: $0.0) }
    }

    @Test("the recorded scenarios have send halves before the receives of their requests")
    func scenariosAreCausal() {
        for source in [Self.pingPong(), Self.lateReply(), Self.killedWhileWaiting()] {
            let halves = source.enumerated().filter { $0.element.kind == .sendReceiveSkipSearch }
            #expect(!halves.isEmpty)
            for (i, half) in halves {
                let receivedAt = source.firstIndex {
                    ($0.kind == .receive || $0.kind == .sendReceiveSkipSearchReturn) && $0.message == half.message
                }
                if let receivedAt { #expect(i < receivedAt) }
            }
        }
        #expect(!Self.killedWhileWaiting().contains { $0.kind == .sendReceiveSkipSearchReturn })
    }

    @Test("R-RECV-7/8 format 1.1 skip-search traces replay cleanly against the built-in adapter")
    func builtin() {
        let report = TestSupport.replay(Self.scenarios, TestSupport.builtinAdapter(), callTimeout: 3)
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("R-RECV-7/8 format 1.1 skip-search traces replay cleanly against the Python adapter")
    func python() {
        let report = TestSupport.replay(Self.scenarios, TestSupport.pythonAdapter, callTimeout: 3)
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("format 1.0 files, whose skip-search calls are one combined event each, still replay")
    func combinedFormStillReplays() throws {
        let traces = [
            ("ping-pong", Self.pingPong()), ("late-reply", Self.lateReply()), ("stale-reply", ScenarioTraces.skipSearch()),
        ]
        .map { ($0.0 + " (1.0)", FormatOneZero.combinedForm($0.1)) }
        var paths: [String] = []
        defer { for p in paths { try? FileManager.default.removeItem(atPath: p) } }
        for (_, events) in traces {
            #expect(events.contains { $0.kind == .sendReceiveSkipSearch && $0.result.value != nil })
            #expect(!events.contains { $0.kind == .sendReceiveSkipSearchReturn })
            paths.append(try FormatOneZero.write(events))
        }
        let report = TestSupport.replay(paths.map { TraceSource.file($0) }, TestSupport.builtinAdapter(), callTimeout: 3)
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("every corpus trace with skip-search calls, rewritten as format 1.0, replays on both adapters")
    func corpusAsFormatOneZero() throws {
        var paths: [String] = []
        defer { for p in paths { try? FileManager.default.removeItem(atPath: p) } }
        let m = try CorpusSupport.manifest()
        for entry in m.entries {
            let (_, events) = try CorpusSupport.events(of: m.path(of: entry))
            let old = FormatOneZero.combinedForm(events)
            let combined = old.filter { $0.kind == .sendReceiveSkipSearch && $0.result.value != nil }.count
            guard combined > 0 else { continue }
            paths.append(try FormatOneZero.write(old))
            let (read, stop) = try FormatOneZero.read(paths.last!)
            #expect(read.count == old.count + combined, "\(entry.file): \(stop)")
        }
        #expect(paths.count >= 5)
        let sources = paths.map { TraceSource.file($0) }
        for adapter in [TestSupport.builtinAdapter(), TestSupport.pythonAdapter] {
            let report = TestSupport.replay(sources, adapter, callTimeout: 3)
            #expect(report.allPassed, "\(report.text())")
        }
    }

    @Test("R-RECV-7: a skip-search that searches the queue is reported at its return event")
    func divergenceNamesTheReturn() throws {
        let events = ScenarioTraces.skipSearch()
        let source = TraceSource.events(events, name: "skip-search")
        let report = TestSupport.replay([source], TestSupport.builtinAdapter(["skip-search-searches-queue"]), callTimeout: 3)
        let cause = try #require(report.outcomes.first?.firstCauses.first, "\(report.text())")
        #expect(cause.rule == "R-RECV-7" && cause.category == .wrongOrder)
        #expect(events[cause.eventIndex].kind == .sendReceiveSkipSearchReturn)
        #expect(events[cause.eventIndex].pid == cause.pid)
    }
}
