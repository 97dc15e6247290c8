import TraceFormat

/// The postmortem lint behind `luna-trace lost`, in one streaming pass.
///
/// Finds messages sent and never received (with the reason), near misses (a receive that timed
/// out shortly before a matching message arrived), resources dropped without being taken, and
/// processes that ended with messages still queued.
package final class LostMessageLint {
    /// One finding.
    package struct Finding: Sendable, Equatable {
        /// What kind of problem.
        package enum Category: String, Sendable, CaseIterable {
            case lostMessage = "lost message"
            case nearMiss = "near miss"
            case droppedResource = "resource dropped untaken"
            case queuedAtExit = "died with queued messages"
            case mismatchedWait = "timed out with other messages queued"
        }
        /// The category.
        package var category: Category
        /// When it happened (trace time).
        package var at: UInt64
        /// The message concerned (0 = none).
        package var message: MessageID
        /// The process concerned.
        package var pid: ProcessID
        /// A one-line explanation.
        package var text: String
    }

    /// How soon after a timed-out receive a matching arrival counts as a near miss.
    package let nearMissWindow: UInt64
    /// Findings kept for printing, per category (the rest are only counted).
    package let keepPerCategory: Int
    /// Findings kept, in the order found.
    package private(set) var findings: [Finding] = []
    /// Findings per category, including those not kept.
    package private(set) var counts: [Finding.Category: Int] = [:]

    private let tracker: MessageTracker
    /// The trace's window, when it is a flight recorder's dump (from its header; set before
    /// the first event): sends to processes spawned before it are then not "to no one".
    package var window: TraceWindow? {
        didSet { tracker.beginsMidRun = window?.isPartial ?? false }
    }
    private var recentTimeouts: [UInt64: [TimedOutReceive]] = [:]
    private var recentTimeoutCount = 0

    private struct TimedOutReceive {
        var calledAt: UInt64
        var endedAt: UInt64
        var tags: [Int64]
        var call: EventKind
        var timeout: Int64
    }

    /// A lint with the given near-miss window (nanoseconds).
    package init(nearMissWindow: UInt64 = 50_000_000, keepPerCategory: Int = 1000) {
        self.nearMissWindow = nearMissWindow
        self.keepPerCategory = keepPerCategory
        self.tracker = MessageTracker()
        tracker.onLifeEnded = { [unowned self] life in self.examine(life) }
    }

    /// The total number of findings.
    package var total: Int { counts.values.reduce(0, +) }

    /// Takes the next event.
    package func observe(_ e: TraceEvent) {
        let attribution = tracker.observe(e)
        switch e.kind {
        case .receive where ResultCode.isTimeout(e.result.value):
            noteTimeout(e, tags: e.tags, timeout: e.args.at(0) ?? 0)
            checkMismatchedWait(e)
        case .sendReceiveSkipSearchReturn where ResultCode.isTimeout(e.result.value):
            let tag = attribution?.tag ?? 0  // the request's: what the call waited for
            noteTimeout(e, tags: tag != 0 ? [tag] : [], timeout: e.args.at(1) ?? 0)
        default: break
        }
        switch e.kind {
        case .send where e.result.trapReason == nil, .sendReceiveSkipSearch where e.result.trapReason == nil:
            let target = UInt64(bitPattern: e.args.at(0) ?? 0)
            // A skip-search send half queued its request at `end`; a send is an instant.
            let time = e.kind == .sendReceiveSkipSearch ? e.end : e.start
            if let a = attribution { checkNearMiss(arrivalOf: a, from: e.pid, at: target, time: time) }
        case .linkDied where e.args.at(2) == 0:
            if let a = attribution {
                checkNearMiss(arrivalOf: a, from: UInt64(bitPattern: e.args.at(0) ?? 0), at: e.pid, time: e.start)
            }
        default: break
        }
    }

    /// Ends the pass: examines the messages still live and the processes' exits.
    package func finish() {
        tracker.finish()
        for pid in tracker.processes.keys.sorted() {
            let p = tracker.processes[pid]!
            guard let end = p.exit, p.queuedAtExit > 0 else { continue }
            add(
                Finding(
                    category: .queuedAtExit, at: end.at, message: 0, pid: pid,
                    text:
                        "pid \(pid) ended (\(end.summary)) at \(TimeText.timestamp(end.at)) with \(p.queuedAtExit) message(s) still in its mailbox"
                ))
        }
    }

    // MARK: Waits

    /// A selective receive that timed out while its mailbox held messages it did not match:
    /// often a sender using the wrong tag.
    private func checkMismatchedWait(_ e: TraceEvent) {
        guard !e.tags.isEmpty, let queued = tracker.process(e.pid)?.queuedTags, !queued.isEmpty else { return }
        let count = queued.values.reduce(0, +)
        let tags = queued.keys.sorted().map { $0 == 0 ? "untagged" : String($0) }.joined(separator: ",")
        let timeout = e.args.at(0).map { $0 == -1 ? "forever" : "\($0)ms" } ?? "?"
        add(
            Finding(
                category: .mismatchedWait, at: e.end, message: 0, pid: e.pid,
                text: "pid \(e.pid) receive(tags [" + e.tags.map(String.init).joined(separator: ",")
                    + "], timeout \(timeout)) timed out at \(TimeText.timestamp(e.end)) while \(count) message(s) with tags [\(tags)] were queued"
            ))
    }

    // MARK: Near misses

    private func noteTimeout(_ e: TraceEvent, tags: [Int64], timeout: Int64) {
        let call = e.kind == .sendReceiveSkipSearchReturn ? EventKind.sendReceiveSkipSearch : e.kind
        recentTimeouts[e.pid, default: []].append(
            TimedOutReceive(calledAt: e.start, endedAt: e.end, tags: tags, call: call, timeout: timeout))
        recentTimeoutCount += 1
        if recentTimeoutCount > 4096 { pruneTimeouts(before: e.start) }
    }

    private func pruneTimeouts(before now: UInt64) {
        let horizon = now > nearMissWindow ? now - nearMissWindow : 0
        recentTimeoutCount = 0
        for pid in Array(recentTimeouts.keys) {
            let kept = recentTimeouts[pid]!.filter { $0.endedAt >= horizon }
            recentTimeouts[pid] = kept.isEmpty ? nil : kept
            recentTimeoutCount += kept.count
        }
    }

    private func checkNearMiss(arrivalOf a: MessageAttribution, from sender: ProcessID, at pid: ProcessID, time: UInt64) {
        guard var pending = recentTimeouts[pid] else { return }
        pending.removeAll { time > $0.endedAt && time - $0.endedAt > nearMissWindow }
        if let i = pending.firstIndex(where: {
            time >= $0.endedAt && ($0.tags.isEmpty || (a.tag != 0 && $0.tags.contains(a.tag)))
        }) {
            let r = pending.remove(at: i)
            let wanted = r.tags.isEmpty ? "any message" : "tags [" + r.tags.map(String.init).joined(separator: ",") + "]"
            let timeout = r.timeout == -1 ? "forever" : "\(r.timeout)ms"
            add(
                Finding(
                    category: .nearMiss, at: r.endedAt, message: a.message, pid: pid,
                    text:
                        "pid \(pid) \(r.call.name)(\(wanted), timeout \(timeout)) timed out at \(TimeText.timestamp(r.endedAt)); "
                        + "matching message #\(a.message)" + (a.tag != 0 ? " (tag \(a.tag))" : "")
                        + " from pid \(sender) arrived \(TimeText.duration(time - r.endedAt)) later"))
        }
        recentTimeouts[pid] = pending.isEmpty ? nil : pending
    }

    // MARK: Messages

    private func examine(_ life: MessageLife) {
        if life.lastSendUndelivered, let send = life.lastSend {
            add(
                Finding(
                    category: .lostMessage, at: send.at, message: life.id, pid: send.to,
                    text: describeLoss(life, send)))
        }
        var dropped: [(slot: Int64, kind: String)] = life.resourcesDropped.map {
            ($0.slot, ResourceKind(rawValue: $0.kind).map { "\($0)" } ?? "kind \($0.kind)")
        }
        if life.drop != nil || life.location == .gone {
            let reported = Set(dropped.map(\.slot))
            for p in life.untakenPushes where !reported.contains(p.slot ?? -1) {
                dropped.append((p.slot ?? -1, "\(p.kind)"))
            }
        }
        for d in dropped.sorted(by: { $0.slot < $1.slot }) {
            let push = life.pushes.first { $0.slot == d.slot }
            let origin = push.map { " (pushed by pid \($0.pid) as \($0.kind) id \($0.resourceID))" } ?? ""
            let how: String
            if let drop = life.drop {
                how = "dropped with message #\(life.id) (\(dropText(drop)))"
            } else {
                how = "left in message #\(life.id) when it was discarded"
            }
            add(
                Finding(
                    category: .droppedResource, at: life.drop?.at ?? 0, message: life.id, pid: life.drop?.pid ?? 0,
                    text: "slot \(d.slot) \(d.kind)\(origin) never taken: \(how)"))
        }
    }

    private func describeLoss(_ life: MessageLife, _ send: MessageSend) -> String {
        var head = "message #\(life.id)"
        if life.isLinkDied { head += " (link_died)" }
        if life.tag != 0 { head += " tag \(life.tag)" }
        if life.bytesWritten > 0 { head += ", \(life.bytesWritten) B" }
        if !life.pushes.isEmpty { head += ", \(life.pushes.count) resource(s)" }
        head += " sent by pid \(send.from) to pid \(send.to) at \(TimeText.timestamp(send.at)) never received: "
        let receiver = tracker.process(send.to)
        if !send.receiverWasRunning {
            if let end = receiver?.exit, end.at <= send.at {
                return head + "receiver dead (pid \(send.to) ended \(end.summary) at \(TimeText.timestamp(end.at)))"
            }
            if receiver == nil || receiver!.firstSeen > send.at {
                return head + "pid \(send.to) never existed"
            }
            return head + "receiver missing"
        }
        if let drop = life.drop, drop.reason == .leftInMailbox || receiver?.exit != nil {
            let end = receiver?.exit
            return head + "receiver exited with it still queued"
                + (end.map { " (\($0.summary) at \(TimeText.timestamp($0.at)))" }
                    ?? " (dropped at \(TimeText.timestamp(drop.at)))")
        }
        if let end = receiver?.exit {
            return head + "receiver exited with it still queued (\(end.summary) at \(TimeText.timestamp(end.at)))"
        }
        if let drop = life.drop {
            return head + "dropped (\(dropText(drop)))"
        }
        return head + "still queued at the end of the trace (receiver running, never asked for it)"
    }

    private func dropText(_ drop: MessageDrop) -> String {
        let name = drop.reason.map(EventLineFormatter.dropName) ?? "reason \(drop.reasonCode)"
        return "\(name) at pid \(drop.pid), \(TimeText.timestamp(drop.at))"
    }

    private func add(_ f: Finding) {
        counts[f.category, default: 0] += 1
        if counts[f.category]! <= keepPerCategory { findings.append(f) }
    }

    /// Writes the report, grouped by category.
    package func write(to out: any TextOutput) {
        if let window, window.isPartial {
            out.line("note: " + WindowText.line(window) + "; what happened before it is not judged")
        }
        if total == 0 {
            out.line("no lost messages, near misses, untaken resources, queued-at-exit mailboxes or mismatched waits found")
            return
        }
        for category in Finding.Category.allCases {
            guard let n = counts[category], n > 0 else { continue }
            out.line("\(category.rawValue): \(n)")
            for f in findings where f.category == category { out.line("  " + f.text) }
            if n > keepPerCategory { out.line("  … \(n - keepPerCategory) more (--limit)") }
        }
    }
}
