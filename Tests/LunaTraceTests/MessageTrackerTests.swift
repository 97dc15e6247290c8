import Foundation
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

@Suite("MessageTracker: following messages through events")
struct MessageTrackerTests {
    private func lives(_ events: [TraceEvent]) -> ([MessageID: MessageLife], MessageTracker) {
        var ended: [MessageID: MessageLife] = [:]
        let tracker = MessageTracker()
        tracker.onLifeEnded = { ended[$0.id] = $0 }
        for e in events { tracker.observe(e) }
        tracker.finish()
        return (ended, tracker)
    }

    @Test("a message carrying resources: slots (R-RES-2), takes with new ids (R-RES-5), untaken slot dropped (R-RES-7)")
    func resourceCarryingMessage() throws {
        let (lives, _) = lives(Postmortem.events())
        let m1 = try #require(lives[1])
        #expect(m1.tag == 7)
        #expect(m1.creator == 1)
        #expect(m1.bytesWritten == 12)
        #expect(m1.pushes.map(\.slot) == [0, 1])
        #expect(m1.pushes.map(\.kind) == [.tcpStream, .module])
        #expect(m1.pushes.map(\.resourceID) == [4, 0])
        #expect(m1.takes.count == 1)
        #expect(m1.takes[0].slot == 0 && m1.takes[0].newID == 0 && m1.takes[0].pid == 2)
        #expect(m1.bytesRead == 12)
        let hop = try #require(m1.hops.first)
        #expect(hop.send?.from == 1 && hop.send?.to == 2)
        #expect(hop.delivery?.receiver == 2)
        #expect(hop.delivery?.tagSet == [7])
        #expect(hop.delivery?.waited == 2_000_000)
        #expect(m1.untakenPushes.map(\.slot) == [1])
        #expect(m1.resourcesDropped.map(\.slot) == [1])
    }

    @Test("mailbox depth is rebuilt from sends, receives and drops; exits record what was queued (R-PROC-7)")
    func mailboxDepth() {
        let (_, tracker) = lives(Postmortem.events())
        #expect(tracker.processes[2]?.maxMailboxDepth == 2)
        #expect(tracker.processes[2]?.queuedAtExit == 2)
        #expect(tracker.processes[2]?.exit?.status == ExitCode.failure.rawValue)
        #expect(tracker.processes[3]?.queuedAtExit == 0)
        #expect(tracker.processes[1]?.entry == "main")
        #expect(tracker.processes[2]?.parent == 1)
    }

    @Test("memory stays bounded: finished messages are released as the stream goes (a million events)")
    func boundedMemory() {
        let tracker = MessageTracker(settleWindow: 64)
        var ended = 0
        tracker.onLifeEnded = { _ in ended += 1 }
        var peak = 0
        var t: UInt64 = 0
        // Two processes ping-pong 200,000 messages: 5 events per message.
        for i in 0..<200_000 {
            let m = MessageID(i + 1)
            t += 10
            tracker.observe(TraceEvent(kind: .createData, pid: 1, start: t, args: [1, 8], message: m))
            tracker.observe(TraceEvent(kind: .writeData, pid: 1, start: t, args: [8], result: .value(8)))
            tracker.observe(TraceEvent(kind: .send, pid: 1, start: t, args: [2], message: m, result: .value(0)))
            tracker.observe(TraceEvent(kind: .receive, pid: 2, start: t, end: t + 5, args: [-1], message: m, result: .value(0)))
            tracker.observe(TraceEvent(kind: .readData, pid: 2, start: t + 5, args: [8], result: .value(8)))
            peak = max(peak, tracker.trackedMessages)
        }
        tracker.finish()
        #expect(ended == 200_000)
        #expect(peak <= 66)
    }

    @Test("a format 1.0 send_receive_skip_search, read by TraceReader, sends the request and receives the reply (R-RECV-7)")
    func skipSearch() throws {
        let (old, request, reply) = ScenarioBuilder.formatOneZeroSkipSearch()
        // The reader hands the call out as a send half before the receive and a return.
        let file = URL(fileURLWithPath: Scratch.path("luna-1.0", extension: "trace"))
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try ScenarioBuilder.writeFormatOneZero(old, to: file)
        let events = Array(try TraceReader(path: file.path).events())
        let halves = events.filter { $0.kind == .sendReceiveSkipSearch }
        let returns = events.filter { $0.kind == .sendReceiveSkipSearchReturn }
        #expect(halves.count == 1 && returns.count == 1)
        var ended: [MessageID: MessageLife] = [:]
        let tracker = MessageTracker()
        tracker.onLifeEnded = { ended[$0.id] = $0 }
        for e in events { tracker.observe(e) }
        tracker.finish()
        #expect(ended[request]?.hops.count == 1)
        #expect(ended[request]?.hops.first?.send?.to == 2)
        #expect(ended[request]?.hops.first?.delivery?.receiver == 2)
        #expect(ended[reply]?.hops.last?.delivery?.receiver == 1)
        #expect(ended[reply]?.hops.last?.delivery?.tagSet == [42])
        #expect(ended[reply]?.hops.last?.delivery?.waited == 3_000_000)
        #expect(tracker.processes[1]?.mailboxDepth == 0)
        #expect(tracker.processes[2]?.mailboxDepth == 0)
        let lint = LostMessageLint()
        for e in events { lint.observe(e) }
        lint.finish()
        #expect(lint.total == 0)
    }
}
