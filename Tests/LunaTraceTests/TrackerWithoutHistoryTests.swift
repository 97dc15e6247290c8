import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// `stats` runs the tracker without message history; what it reads from the tracker (process
/// records, mailbox depths, attributions and tags) must be exactly what the full tracker gives.
@Suite("tracker without history (stats): same processes, depths and tags as the full tracker")
struct TrackerWithoutHistoryTests {
    private func expectSame(_ events: [TraceEvent], settleWindow: Int = 1024) {
        let full = MessageTracker(settleWindow: settleWindow)
        let lean = MessageTracker(settleWindow: settleWindow, keepsHistory: false)
        var fullEnded: [MessageID] = [], leanEnded: [MessageID] = []
        full.onLifeEnded = { fullEnded.append($0.id) }
        lean.onLifeEnded = { leanEnded.append($0.id) }
        var mismatches = 0
        for e in events {
            let a = full.observe(e), b = lean.observe(e)
            if a != b || full.trackedMessages != lean.trackedMessages { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(full.processes.count == lean.processes.count)
        for pid in full.processes.keys {
            var expected = full.processes[pid]
            expected?.queuedTags = [:]  // per-tag mailbox counts are history (for `lost`)
            #expect(expected == lean.processes[pid])
        }
        for id in Set(events.map(\.message)) { #expect(full.tag(of: id) == lean.tag(of: id)) }
        full.finish()
        lean.finish()
        #expect(fullEnded == leanEnded)
    }

    @Test("postmortem scenario")
    func postmortem() { expectSame(Postmortem.events()) }

    @Test("arbitrary events (wild ids, kinds, results), several seeds and settling windows")
    func arbitrary() {
        for seed in [1, 7, 42, 2026] as [UInt64] {
            let events = BadInputTests.randomEvents(count: 20_000, seed: seed)
            expectSame(events)
            expectSame(events, settleWindow: 3)
        }
    }
}
