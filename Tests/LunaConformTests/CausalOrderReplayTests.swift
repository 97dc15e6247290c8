import ConformanceKit
import Foundation
import LunaTestSupport
import Testing
import TraceFormat

/// Replay keeps the trace's causal order when an adapter runs a request late: a process's
/// requests wait in the adapter behind its waiting call (protocol section 2.1), so what such a
/// request does (a send, a kill, a failure) happens after requests the replay sent later.
/// Each trace below has a 300 ms wait in the way; replayed without the ordering it checks, the
/// later request overtakes the queued one and the replay diverges.
@Suite("Replay: causal order around requests queued behind a waiting call")
struct CausalOrderReplayTests {
    /// Event `e` at `ms` milliseconds (start and end), or from `ms` to `endMs`.
    static func at(_ ms: Double, _ e: TraceEvent, to endMs: Double? = nil) -> TraceEvent {
        var e = e
        e.start = UInt64(ms * 1e6)
        e.end = UInt64((endMs ?? ms) * 1e6)
        return e
    }

    static func ev(
        _ k: EventKind, _ pid: UInt64, _ args: EventArguments = [], tags: [Int64] = [], msg: MessageID = 0,
        result: CallResult = .none, text: String = ""
    ) -> TraceEvent {
        TraceEvent(kind: k, pid: pid, args: args, tags: tags, message: msg, text: text, result: result)
    }

    static func spawns(_ pids: [Int64]) -> [TraceEvent] { pids.map { ev(.spawn, 0, [$0, 0, 0, 0], result: .value(0)) } }

    /// Pid `pid` waits 300 ms for a tag nobody sends, from 0.01 ms.
    static func longWait(_ pid: UInt64) -> TraceEvent {
        at(0.01, ev(.receive, pid, [300], tags: [9999], result: .value(9027)), to: 300)
    }

    static func replay(_ name: String, _ events: [TraceEvent], callTimeout: Double = 3) async -> ConformanceReport {
        await offPool { TestSupport.replay([.events(events, name: name)], TestSupport.pythonAdapter, callTimeout: callTimeout) }
    }

    @Test("a process's second wait that timed out does not hide its first: a send the first would take is held")
    func twoOpenWaits() async {
        let trace =
            Self.spawns([1, 2]) + [
                Self.at(0.01, Self.ev(.receive, 2, [300], tags: [2], result: .value(9027)), to: 300),
                Self.at(300.1, Self.ev(.receive, 2, [0], tags: [9999], result: .value(9027))),
                Self.at(300.2, Self.ev(.createData, 1, [2, 0], msg: 1)),
                Self.at(300.3, Self.ev(.send, 1, [2], msg: 1, result: .value(0))),
                Self.at(300.4, Self.ev(.receive, 2, [-1], tags: [2], msg: 1, result: .value(0))),
            ]
        let report = await Self.replay("two-open-waits", trace)
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("R-RECV-2: a message sent behind its sender's wait arrives before a later message of another sender")
    func arrivalOrderAcrossSenders() async {
        let trace =
            Self.spawns([2, 3, 4]) + [
                Self.longWait(2),
                Self.at(300.1, Self.ev(.createData, 2, [3, 0], msg: 1)),
                Self.at(300.2, Self.ev(.send, 2, [3], msg: 1, result: .value(0))),
                Self.at(300.3, Self.ev(.createData, 4, [1, 0], msg: 2)),
                Self.at(300.4, Self.ev(.send, 4, [3], msg: 2, result: .value(0))),
                Self.at(300.5, Self.ev(.receive, 3, [-1], tags: [], msg: 1, result: .value(0))),
                Self.at(300.6, Self.ev(.receive, 3, [-1], tags: [], msg: 2, result: .value(0))),
            ]
        let report = await Self.replay("arrival-order", trace)
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("R-RECV-5: a receive with timeout 0 finds a message sent behind its sender's wait")
    func timeoutZeroAfterQueuedSend() async {
        let trace =
            Self.spawns([2, 3]) + [
                Self.longWait(2),
                Self.at(300.1, Self.ev(.createData, 2, [3, 0], msg: 1)),
                Self.at(300.2, Self.ev(.send, 2, [3], msg: 1, result: .value(0))),
                Self.at(300.3, Self.ev(.receive, 3, [0], tags: [], msg: 1, result: .value(0))),
            ]
        let report = await Self.replay("timeout-zero", trace)
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("R-PROC-2: a kill waits until the calls its victim made before it have answered")
    func killAfterVictimsCalls() async {
        // Pid 2 waits in skip-search for a reply pid 3 sends after its own 300 ms wait; then pid
        // 2 reads the reply's tag, and only then pid 1 kills it.
        let trace =
            Self.spawns([1, 2, 3]) + [
                Self.longWait(3),
                Self.at(0.02, Self.ev(.createData, 2, [5, 0], msg: 1)),
                Self.at(0.03, Self.ev(.sendReceiveSkipSearch, 2, [3, -1], msg: 1)),
                Self.at(300.1, Self.ev(.receive, 3, [-1], tags: [5], msg: 1, result: .value(0))),
                Self.at(300.2, Self.ev(.createData, 3, [5, 0], msg: 2)),
                Self.at(300.3, Self.ev(.send, 3, [2], msg: 2, result: .value(0))),
                Self.at(0.03, Self.ev(.sendReceiveSkipSearchReturn, 2, [3, -1, 1], msg: 2, result: .value(0)), to: 300.4),
                Self.at(300.5, Self.ev(.getTag, 2, msg: 2, result: .value(5))),
                Self.at(300.6, Self.ev(.kill, 1, [2])),
                Self.at(300.7, Self.ev(.exit, 2, [ExitCode.killed.rawValue], text: "killed")),
            ]
        let report = await Self.replay("kill-after-calls", trace)
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("R-PROC-5: a failure queued behind its process's wait reaches a linked process before that one's next call")
    func queuedFailureReachesLinkedProcess() async {
        // Pid 3 (linked to pid 2) fails after its 300 ms wait; pid 2 was waiting 50 ms when the
        // failure brought it down, so its receive never returned.
        let trace =
            Self.spawns([2]) + [
                Self.ev(.spawn, 2, [3, 1, 0, 0], result: .value(0)),
                Self.longWait(3),
                Self.at(300.1, Self.ev(.exit, 3, [ExitCode.failure.rawValue], text: "unreachable")),
                Self.at(300.2, Self.ev(.linkDied, 2, [3, 0, 1])),
                Self.at(0.05, Self.ev(.receive, 2, [50], tags: [9999]), to: 300.2),
                Self.at(300.3, Self.ev(.exit, 2, [ExitCode.linkDied.rawValue], text: "linked process 3 died")),
            ]
        let report = await Self.replay("queued-failure", trace)
        #expect(report.allPassed, "\(report.text())")
    }
}
