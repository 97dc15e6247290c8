import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// The tracker and `stats` index small pids and message ids in flat tables and fall back to
/// dictionaries for the rest; a file with huge ids must give the same figures as one with small.
@Suite("stats and tracker: huge pids and message ids give the same figures as small ones")
struct SparseIDTests {
    private static let pidOffset: UInt64 = 1 << 40
    private static let messageOffset: UInt64 = 1 << 50

    /// `e` with every nonzero pid (its own, and the pid argument of calls that name one) and
    /// message id moved far beyond the dense tables.
    private static func sparse(_ e: TraceEvent) -> TraceEvent {
        var e = e
        if e.pid != 0 { e.pid += pidOffset }
        if e.message != 0 { e.message += messageOffset }
        let namesPid: Set<EventKind> = [.send, .sendReceiveSkipSearch, .spawn, .linkDied, .start]
        if namesPid.contains(e.kind), let p = e.args.at(0), p != 0 {
            var args = EventArguments([p + Int64(pidOffset)])
            for i in 1..<e.args.count { args.append(e.args[i]) }
            e.args = args
        }
        return e
    }

    @Test("postmortem scenario with pids beyond 2^40 and ids beyond 2^50: same counts, depths and ends")
    func hugeIDs() {
        let dense = TraceStatistics(), sparse = TraceStatistics()
        for e in Postmortem.events() {
            dense.observe(e)
            sparse.observe(Self.sparse(e))
        }
        #expect(sparse.events == dense.events)
        #expect(sparse.perKind == dense.perKind)
        #expect(sparse.messagesSent == dense.messagesSent)
        #expect(sparse.messagesReceived == dense.messagesReceived)
        #expect(sparse.dropped == dense.dropped)
        #expect(sparse.deaths == dense.deaths)
        #expect(sparse.tracker.processes.count == dense.tracker.processes.count)
        for pid in dense.tracker.processes.keys {
            let d = dense.tracker.processes[pid]!
            let s = sparse.tracker.processes[pid == 0 ? 0 : pid + Self.pidOffset]
            #expect(s?.maxMailboxDepth == d.maxMailboxDepth)
            #expect(s?.queuedAtExit == d.queuedAtExit)
            #expect(s?.entry == d.entry)
            #expect(s?.exit?.status == d.exit?.status)
            let df = dense.perProcess[pid], sf = sparse.perProcess[pid == 0 ? 0 : pid + Self.pidOffset]
            #expect(sf == df)
        }
        #expect(sparse.tracker.trackedMessages == dense.tracker.trackedMessages)
    }

    @Test("a message id re-created while its first life settles is followed as before")
    func recreatedID() {
        var ended: [MessageLife] = []
        let tracker = MessageTracker(settleWindow: 4) { ended.append($0) }
        for e in [
            TraceEvent(kind: .createData, pid: 1, start: 1, args: [3, 0], message: 9),
            TraceEvent(kind: .createData, pid: 1, start: 2, args: [4, 0], message: 10),  // 9 settles
            TraceEvent(kind: .createData, pid: 2, start: 3, args: [5, 0], message: 9),  // 9 again, live
        ] { tracker.observe(e) }
        #expect(tracker.tag(of: 9) == 5)
        #expect(tracker.trackedMessages == 3)
        tracker.finish()
        #expect(ended.map(\.id) == [9, 9, 10])
        #expect(ended.map(\.tag) == [3, 5, 4])
    }

    @Test("the message id table agrees with a Dictionary over random inserts, updates and removals")
    func idTableMatchesDictionary() {
        var table = MessageIDTable<Int>()
        var truth: [MessageID: Int] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<200_000 {
            // Mostly increasing ids near a moving front (as a runtime hands them out), some far.
            let id: MessageID =
                step % 7 == 0
                ? UInt64.random(in: 1...UInt64.max, using: &rng)
                : UInt64(step / 3 + 1) + UInt64.random(in: 0..<64, using: &rng)
            if Bool.random(using: &rng) || truth.count > 5000 {
                table[id] = nil
                truth[id] = nil
            } else {
                table[id] = step
                truth[id] = step
            }
            if step % 997 == 0 { #expect(table.entryCount == truth.count) }
        }
        #expect(table.entryCount == truth.count)
        #expect(Set(table.ids) == Set(truth.keys))
        for (id, v) in truth { #expect(table[id] == v) }
        #expect(!table.usesFallback)
    }

    @Test("crafted ids that all hash alike switch the table to a Dictionary, with nothing lost")
    func idTableFallsBackOnCraftedIDs() {
        // id * 0x9E3779B97F4A7C15 = x (small) for every x: every id hashes to slot 0.
        let c: UInt64 = 0x9E37_79B9_7F4A_7C15
        var inverse = c
        for _ in 0..<6 { inverse = inverse &* (2 &- c &* inverse) }
        #expect(c &* inverse == 1)
        var table = MessageIDTable<UInt64>()
        let ids = (1...5000).map { UInt64($0) &* inverse }
        for (i, id) in ids.enumerated() { table[id] = UInt64(i) }
        #expect(table.usesFallback)
        #expect(table.entryCount == ids.count)
        for (i, id) in ids.enumerated() { #expect(table[id] == UInt64(i)) }
        for id in ids.prefix(2500) { table[id] = nil }
        #expect(table.entryCount == 2500)
        #expect(table[ids[0]] == nil)
        #expect(table[ids[4999]] == 4999)
    }
}
