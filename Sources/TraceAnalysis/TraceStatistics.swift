import TraceFormat

/// The figures `luna-trace stats` prints, gathered in one streaming pass.
///
/// Exclusivity checks are off for its counters: statistics are gathered on one thread, and the
/// only access held across a call (a process's figures while `observe` counts the event in
/// them) overlaps nothing, since that call touches no other process's figures.
package final class TraceStatistics {
    /// Events seen.
    @exclusivity(unchecked) package private(set) var events: UInt64 = 0
    /// Events per call or lifecycle kind.
    package var perKind: [EventKind: UInt64] {
        var all = kindCountsBeyondTable
        for (raw, n) in kindCounts.enumerated() where n > 0 { all[EventKind(rawValue: UInt16(raw))] = n }
        return all
    }
    /// Per-process figures.
    package var perProcess: [UInt64: ProcessFigures] {
        var all = figuresBeyondTable
        for (pid, f) in figures.enumerated() where f.seen { all[UInt64(pid)] = f }
        return all
    }
    /// Counts per raw kind code below 256 (every kind this version knows), and the rest. A
    /// buffer of fixed size rather than an array: counting an event then costs no uniqueness
    /// check.
    private let kindCounts: UnsafeMutableBufferPointer<UInt64> = {
        let counts = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 256)
        counts.initialize(repeating: 0)
        return counts
    }()
    @exclusivity(unchecked) private var kindCountsBeyondTable: [EventKind: UInt64] = [:]
    /// Figures of pids below `denseProcessLimit`, indexed by pid (runtime pids are small and
    /// dense); larger pids (only hostile or hand-made files) go to the dictionary.
    @exclusivity(unchecked) private var figures: [ProcessFigures] = []
    @exclusivity(unchecked) private var figuresBeyondTable: [UInt64: ProcessFigures] = [:]
    private static let denseProcessLimit: UInt64 = 1 << 16
    /// What `observe` does per kind, indexed by raw code.
    private let actions: [Action] = TraceStatistics.actionTable
    /// Messages created by `create_data`, and LinkDied messages queued.
    @exclusivity(unchecked) package private(set) var messagesCreated: UInt64 = 0
    @exclusivity(unchecked) package private(set) var linkDiedQueued: UInt64 = 0
    /// Sends (`send` and the send half of `send_receive_skip_search`).
    @exclusivity(unchecked) package private(set) var messagesSent: UInt64 = 0
    /// Messages taken by a receive.
    @exclusivity(unchecked) package private(set) var messagesReceived: UInt64 = 0
    /// Drops per raw `DropReason` code.
    @exclusivity(unchecked) package private(set) var dropped: [Int64: UInt64] = [:]
    /// Receives that timed out.
    @exclusivity(unchecked) package private(set) var receiveTimeouts: UInt64 = 0
    /// Time spent inside receives that returned a message.
    @exclusivity(unchecked) package private(set) var receiveWait = DurationPercentiles()
    /// Calls that trapped, per trap reason, and traps outside calls.
    @exclusivity(unchecked) package private(set) var traps: [String: UInt64] = [:]
    /// Process ends per raw `ExitCode` status.
    @exclusivity(unchecked) package private(set) var deaths: [Int64: UInt64] = [:]
    /// The longest blocking waits (receive, send_receive_skip_search, sleep_ms), longest first.
    @exclusivity(unchecked) package private(set) var longestWaits: [Wait] = []
    /// How many of the longest waits are kept.
    @exclusivity(unchecked) package var longestWaitsKept = 5
    /// The duration of the last (shortest) of `longestWaits`, so most waits are turned away
    /// without reading the list.
    @exclusivity(unchecked) private var shortestLongestWait: UInt64 = 0

    /// One blocking call, for "which process waited on what".
    package struct Wait: Sendable, Equatable {
        /// The waiting process.
        package var pid: ProcessID
        /// The call.
        package var call: EventKind
        /// When it began, and how long it waited.
        package var start: UInt64
        package var duration: UInt64
        /// The tag set waited for (empty = any).
        package var tags: [Int64]
        /// The message that ended the wait (0 = none: timeout, sleep).
        package var message: MessageID
        /// The call's result.
        package var result: Int64?
        /// A sleep the process ended in (killed or brought down by a link).
        package var neverReturned = false
    }

    /// Time of the last event seen.
    @exclusivity(unchecked) package private(set) var lastTime: UInt64 = 0

    /// What `stats` shows for one process.
    package struct ProcessFigures: Sendable, Equatable {
        /// Events of this process.
        package var events: UInt64 = 0
        /// Messages it sent and received.
        package var sent: UInt64 = 0
        package var received: UInt64 = 0
        /// Traps in its calls or code.
        package var traps: UInt64 = 0

        /// Figures of `events` events and nothing else.
        package init(events: UInt64 = 0) { self.events = events }

        /// Whether the process had an event (a dense table's unused rows have none).
        fileprivate var seen: Bool { events > 0 }

        /// Adds `other`'s counts.
        @inline(__always)
        fileprivate mutating func add(_ other: ProcessFigures) {
            events += other.events
            sent += other.sent
            received += other.received
            traps += other.traps
        }
    }

    /// The tracker that reconstructs mailbox depths and exits.
    package let tracker = MessageTracker(keepsHistory: false)
    /// The trace's window, when it is a flight recorder's dump (from its header; set before
    /// the first event).
    package var window: TraceWindow? {
        didSet { tracker.beginsMidRun = window?.isPartial ?? false }
    }
    /// Messages received in a window whose creation and send were dropped before it.
    @exclusivity(unchecked) package private(set) var receivedFromBeforeWindow: UInt64 = 0

    /// Empty statistics.
    package init() {}

    deinit { kindCounts.deallocate() }

    /// Takes the next event.
    package func observe(_ e: TraceEvent) {
        events += 1
        if e.end > lastTime { lastTime = e.end }
        let raw = Int(e.kind.rawValue)
        if raw < kindCounts.count { kindCounts[raw] += 1 } else { kindCountsBeyondTable[e.kind, default: 0] += 1 }
        let counted = count(e, raw)
        if e.pid < Self.denseProcessLimit {
            let i = Int(e.pid)
            if i >= figures.count {
                figures.append(contentsOf: repeatElement(ProcessFigures(), count: max(i + 1 - figures.count, figures.count)))
            }
            figures[i].add(counted)
        } else {
            figuresBeyondTable[e.pid, default: ProcessFigures()].add(counted)
        }
        tracker.observe(e)
    }

    /// Counts `e` in the totals and returns what it adds to its process's figures (one event,
    /// and the sends, receives and traps it is), so the process row is changed with plain adds.
    @inline(__always)
    private func count(_ e: TraceEvent, _ raw: Int) -> ProcessFigures {
        var process = ProcessFigures(events: 1)
        let action = raw < actions.count ? actions[raw] : .other
        switch action {
        case .createData: messagesCreated += 1
        case .send:
            if !e.trapped {
                messagesSent += 1
                process.sent += 1
            }
        case .skipSearchSend:
            if !e.trapped {
                messagesSent += 1
                process.sent += 1
            }
        case .skipSearchReturn:
            if e.result.value == 0 {
                messagesReceived += 1
                process.received += 1
                receiveWait.add(e.duration)
                noteReceipt(e.message)
            } else if ResultCode.isTimeout(e.result.value) {
                receiveTimeouts += 1
            }
        case .receive:
            if let r = e.result.value, r == 0 || r == 1, e.message != 0 || r == 0 {
                messagesReceived += 1
                process.received += 1
                receiveWait.add(e.duration)
                noteReceipt(e.message)
            } else if ResultCode.isTimeout(e.result.value) {
                receiveTimeouts += 1
            }
        case .linkDied where e.args.at(2) == 0:
            linkDiedQueued += 1
        case .messageDropped:
            dropped[e.args.at(0) ?? 0, default: 0] += 1
        case .exit:
            deaths[e.args.at(0) ?? 0, default: 0] += 1
        case .trap:
            traps[e.text.isEmpty ? "trap" : e.text, default: 0] += 1
            process.traps += 1
        default: break
        }
        switch action {
        case .receive, .skipSearchReturn, .sleepMs: noteWait(e)
        default: break
        }
        if case .trap(let reason) = e.result {
            traps[reason, default: 0] += 1
            process.traps += 1
        }
        return process
    }

    /// Counts a received message the window shows nothing else of (called before the tracker
    /// sees the receive).
    @inline(__always)
    private func noteReceipt(_ message: MessageID) {
        if tracker.beginsMidRun && message != 0 && tracker.tag(of: message) == nil { receivedFromBeforeWindow += 1 }
    }

    /// What `observe` does with an event kind.
    private enum Action {
        case createData, send, skipSearchSend, skipSearchReturn, receive, linkDied, messageDropped, exit, trap, sleepMs, other
    }

    private static let actionTable: [Action] = {
        let known: [(EventKind, Action)] = [
            (.createData, .createData), (.send, .send), (.sendReceiveSkipSearch, .skipSearchSend),
            (.sendReceiveSkipSearchReturn, .skipSearchReturn), (.receive, .receive), (.linkDied, .linkDied),
            (.messageDropped, .messageDropped), (.exit, .exit), (.trap, .trap), (.sleepMs, .sleepMs),
        ]
        var table = [Action](repeating: .other, count: Int(known.map(\.0.rawValue).max()!) + 1)
        for (kind, action) in known { table[Int(kind.rawValue)] = action }
        return table
    }()

    private func noteWait(_ e: TraceEvent) {
        guard longestWaitsKept > 0 else { return }
        if longestWaits.count == longestWaitsKept, shortestLongestWait >= e.duration { return }
        var tags = e.tags
        var message = e.message
        var call = e.kind
        if e.kind == .sendReceiveSkipSearch || e.kind == .sendReceiveSkipSearchReturn {
            message = e.skipSearchReply
            let request = e.kind == .sendReceiveSkipSearch ? e.message : MessageID(bitPattern: e.args.at(2) ?? 0)
            if let tag = tracker.tag(of: request), tag != 0 { tags = [tag] }
            call = .sendReceiveSkipSearch
        }
        var wait = Wait(
            pid: e.pid, call: call, start: e.start, duration: e.duration, tags: tags, message: message, result: e.result.value)
        wait.neverReturned = e.kind == .sleepMs && e.args.at(1) == 1
        let i = longestWaits.firstIndex { $0.duration < wait.duration } ?? longestWaits.count
        longestWaits.insert(wait, at: i)
        if longestWaits.count > longestWaitsKept { longestWaits.removeLast() }
        shortestLongestWait = longestWaits[longestWaits.count - 1].duration
    }

    /// Writes the report.
    package func write(to out: any TextOutput, processLimit: Int?) {
        if let window { out.line(WindowText.line(window)) }
        out.line("events: \(events)   processes: \(tracker.processes.count)   span: \(TimeText.duration(lastTime))")
        out.line()
        out.line("calls:")
        for (kind, n) in perKind.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            out.line("  " + pad(kind.name, 28) + leftPad(String(n), 10))
        }
        out.line()
        out.line("messages:")
        out.line("  created            \(messagesCreated)" + (linkDiedQueued > 0 ? " (+\(linkDiedQueued) link_died)" : ""))
        out.line("  sent               \(messagesSent)")
        out.line(
            "  received           \(messagesReceived)"
                + (receivedFromBeforeWindow > 0 ? " (\(receivedFromBeforeWindow) sent before the window)" : ""))
        let totalDropped = dropped.values.reduce(0, +)
        let reasons = dropped.sorted { $0.key < $1.key }.map { code, n in
            "\(DropReason(rawValue: code).map(EventLineFormatter.dropName) ?? "reason \(code)") \(n)"
        }
        out.line("  dropped            \(totalDropped)" + (reasons.isEmpty ? "" : " (" + reasons.joined(separator: ", ") + ")"))
        out.line("  receive timeouts   \(receiveTimeouts)")
        out.line()
        out.line("receive wait (calls that returned a message):")
        if receiveWait.count == 0 {
            out.line("  none")
        } else {
            let ps: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)]
            let values = receiveWait.percentiles(ps.map(\.1))!
            let parts = zip(ps, values).map { "\($0.0.0) \(TimeText.duration($0.1))" }
            out.line(
                "  n \(receiveWait.count)   min \(TimeText.duration(receiveWait.minimum))   " + parts.joined(separator: "   ")
                    + "   max \(TimeText.duration(receiveWait.maximum))")
        }
        if !longestWaits.isEmpty {
            out.line("longest waits:")
            for w in longestWaits {
                var what: String
                switch w.call {
                case .sleepMs: what = "sleep_ms"
                default:
                    what =
                        w.call.name
                        + (w.tags.isEmpty ? " (any tag)" : " (tags " + w.tags.map(String.init).joined(separator: ",") + ")")
                }
                let outcome: String
                if w.call == .sleepMs {
                    outcome = w.neverReturned ? " → never returned" : ""
                } else if ResultCode.isTimeout(w.result) {
                    outcome = " → timed out"
                } else if w.message != 0 {
                    outcome = " → got message #\(w.message)"
                } else {
                    outcome = " → never returned"
                }
                out.line(
                    "  pid \(w.pid) waited \(TimeText.duration(w.duration)) in \(what) from \(TimeText.timestamp(w.start))\(outcome)"
                )
            }
        }
        out.line()
        let totalTraps = traps.values.reduce(0, +)
        out.line("traps: \(totalTraps)")
        for (reason, n) in traps.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            out.line("  " + pad(reason, 44) + leftPad(String(n), 8))
        }
        let ended = deaths.sorted { $0.key < $1.key }.map { code, n in
            "\(ExitCode(rawValue: code).map(EventLineFormatter.exitName) ?? "status \(code)") \(n)"
        }
        out.line("process ends: " + (ended.isEmpty ? "none" : ended.joined(separator: ", ")))
        out.line()
        out.line("processes:")
        out.line(
            "  " + leftPad("pid", 8) + leftPad("events", 10) + leftPad("sent", 9) + leftPad("recv", 9)
                + leftPad("max mbox", 10) + leftPad("traps", 7) + "  end")
        let perProcess = self.perProcess
        let pids = tracker.processes.keys.sorted()
        let shown = processLimit.map { Array(pids.prefix($0)) } ?? pids
        for pid in shown {
            let p = tracker.processes[pid]!
            let f = perProcess[pid] ?? ProcessFigures()
            var end = p.exit.map { $0.summary } ?? "running at end of trace"
            if let q = p.exit.map({ _ in p.queuedAtExit }), q > 0 { end += ", \(q) queued at exit" }
            out.line(
                "  " + leftPad(String(pid), 8) + leftPad(String(f.events), 10) + leftPad(String(f.sent), 9)
                    + leftPad(String(f.received), 9) + leftPad(String(p.maxMailboxDepth), 10) + leftPad(String(f.traps), 7)
                    + "  " + end + (p.entry.map { "  [\($0)]" } ?? ""))
        }
        if shown.count < pids.count { out.line("  … \(pids.count - shown.count) more processes (--processes)") }
    }

    private func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
    private func leftPad(_ s: String, _ w: Int) -> String {
        s.count >= w ? " " + s : String(repeating: " ", count: w - s.count) + s
    }
}

private extension TraceEvent {
    /// Whether the call trapped (without copying the reason).
    var trapped: Bool { if case .trap = result { return true } else { return false } }
}
