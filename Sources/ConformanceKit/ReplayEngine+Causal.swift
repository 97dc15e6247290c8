import LunaSupport
import TraceFormat

/// Causal replay of waits that timed out: such a wait holds back only the requests that could
/// end it before its timeout (a message it would take, a kill, a link death), not the whole
/// replay; and answers the replay needs to go on (new pids, resource ids) are awaited one by
/// one, not in request order behind every earlier wait. So concurrent waits overlap as they did
/// when recorded, and replay time follows the recorded time rather than the sum of timeouts.
extension ReplayEngine {
    /// Registers a wait of `pid` that timed out in the trace (request `id`, ending on a message
    /// with one of `tags`, or on any message when nil). A process may have several in flight
    /// (a later one issued early, or one with timeout 0 behind a longer one): each is kept.
    func openWait(_ pid: UInt64, request id: Int64, tags: [Int64]?, budget: Double, returnIndex: Int) {
        openWaits[pid, default: []].append(
            OpenWait(requestID: id, tags: tags, deadline: MonotonicClock.deadline(after: budget), returnIndex: returnIndex))
    }

    /// Waits until the open waits of `pid` (if any) have answered, or their budgets ran out
    /// (they are then judged as not returning, in order). With `returnedBefore`, only the waits
    /// the trace shows timing out before that event: one that timed out later was still
    /// waiting there when recorded, so what happens there did not end it.
    func holdFor(_ pid: UInt64, returnedBefore limit: Int? = nil) throws(AdapterFailure) {
        guard var waits = openWaits.removeValue(forKey: pid) else { return }
        if let limit {
            let later = waits.filter { $0.returnIndex >= limit }
            waits.removeAll { $0.returnIndex >= limit }
            if !later.isEmpty { openWaits[pid] = later }
        }
        try client.flush()
        for w in waits {
            if try client.awaitArrival(of: w.requestID, deadline: min(w.deadline, traceDeadline)) == nil,
                MonotonicClock.now() >= traceDeadline
            {
                throw traceTimedOut()
            }
        }
    }

    /// Holds back the request of event `e` (process state `p`) until every open wait it could
    /// end has answered: a message to a waiting process that its tags take, or the end of a
    /// waiting process (a kill of it, or a death whose link notices reach it); and, before an
    /// end, until the calls of the processes it ends that returned earlier in the trace have
    /// answered (see `awaitEarlierCalls`).
    func holdBack(_ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        if !queuedEnds.isEmpty { try awaitQueuedEnds(reaching: e.pid) }
        if e.kind == .send || e.kind == .sendReceiveSkipSearch, e.result.trapReason == nil {
            let to = UInt64(bitPattern: e.args.at(0) ?? 0)
            try keepArrivalOrder(to: to, from: e.pid)
            // A skip-search call looks only at what arrives after it began (R-RECV-7): what
            // was sent to its caller before must be there by then.
            if e.kind == .sendReceiveSkipSearch, to != e.pid { try keepArrivalOrder(to: e.pid, from: e.pid) }
        }
        if e.kind == .send || e.kind == .sendReceiveSkipSearch, !openWaits.isEmpty {
            let to = UInt64(bitPattern: e.args.at(0) ?? 0)
            if let waits = openWaits[to], let m = p.scratch.message, let model = messages[m],
                waits.contains(where: { $0.takes(model.tag) })
            {
                try holdFor(to)
            }
        }
        guard let ended = Self.endedBy(e) else { return }
        try beforeEnding(ended, caller: e.pid)
    }

    /// The processes event `e` ends by itself (their deaths then reach their links): the target
    /// of a kill, or the caller of a call that fails it. Nil when it ends none.
    static func endedBy(_ e: TraceEvent) -> [UInt64]? {
        switch e.kind {
        case .kill: return [UInt64(bitPattern: e.args.at(0) ?? 0)]
        case .trap: return [e.pid]
        case .exit: return (e.args.at(0) ?? 0) == ExitCode.failure.rawValue ? [e.pid] : nil
        default: return e.result.trapReason != nil ? [e.pid] : nil
        }
    }

    /// Before a request that ends `roots` (sent by `caller`): holds back until the open waits of
    /// every process the ends can reach (the roots and, through links, whoever their deaths
    /// reach) have answered, and until those processes' calls that returned before this point of
    /// the trace have answered. The adapter runs a process's requests in order, so a call queued
    /// behind a blocking one (waiting for a message another process has yet to send) would
    /// otherwise still be waiting when the end reaches it, and end with it; the trace says it
    /// returned first. The caller's own earlier calls come first in the adapter anyway.
    func beforeEnding(_ roots: [UInt64], caller: UInt64) throws(AdapterFailure) {
        var reached = linkClosure(of: roots)
        reached.remove(caller)
        if reached.isEmpty { return }
        for pid in reached where openWaits[pid] != nil { try holdFor(pid, returnedBefore: position) }
        try awaitEarlierCalls(of: reached)
        // Queued behind a waiting call of its caller, the end comes once that call answers:
        // the requests of the processes it reaches wait for that too.
        if let busy = unansweredBlockingCall(of: caller) {
            for pid in reached { queuedEnds[pid] = (busy, caller) }
        }
    }

    /// Before a request of `pid`, or a message to it: an end that reaches it, issued earlier
    /// but queued behind a waiting call of its caller, must have happened (in the trace it
    /// came first: a waiting call of `pid` never returns, a message to it is dropped).
    func awaitQueuedEnds(reaching pid: UInt64) throws(AdapterFailure) {
        guard let end = queuedEnds.removeValue(forKey: pid), !isAnswered(end.gate),
            procs[end.caller]?.stuck != true
        else { return }
        _ = try awaitAnswer(end.gate, pid: end.caller)
        if MonotonicClock.now() >= traceDeadline { throw traceTimedOut() }
    }

    /// Waits until every unanswered call of `pids` that returned before the current event in
    /// the trace has answered (each within its budget; one that does not is judged in order
    /// later). Calls the trace never saw return, and `wait_exit`, are not waited for.
    func awaitEarlierCalls(of pids: Set<UInt64>) throws(AdapterFailure) {
        var first = true
        for call in pending[head...] where call.index < position && pids.contains(call.event.pid) {
            if call.context.neverReturns || procs[call.event.pid]?.stuck == true { continue }
            if case .waitExit = call.context { continue }
            if client.peek(call.requestID) != nil { continue }
            if first { try client.flush(); first = false }
            let deadline = min(answerDeadline(of: call), traceDeadline)
            if try client.awaitArrival(of: call.requestID, deadline: deadline) == nil,
                MonotonicClock.now() >= traceDeadline
            {
                throw traceTimedOut()
            }
        }
    }

    /// `roots` and every process linked to one of them, transitively (links made by `spawn`
    /// or `link`, in either direction; an `unlink` is not subtracted: holding back for a
    /// process no longer linked only waits for answers that come anyway).
    func linkClosure(of roots: [UInt64]) -> Set<UInt64> {
        var out = Set(roots)
        if spawnLinks.isEmpty && callLinks.isEmpty { return out }
        var neighbours: [UInt64: [UInt64]] = [:]
        for pair in spawnLinks.union(callLinks) {
            neighbours[pair.a, default: []].append(pair.b)
            neighbours[pair.b, default: []].append(pair.a)
        }
        var stack = roots
        while let pid = stack.popLast() {
            for n in neighbours[pid] ?? [] where out.insert(n).inserted { stack.append(n) }
        }
        return out
    }

    /// Before a message from `sender` goes to `receiver`: the messages sent to `receiver`
    /// earlier in the trace by other processes whose sends are queued behind a waiting call of
    /// their sender must have arrived first (they did in the trace: a receive takes the first
    /// match in arrival order), and a skip-search call of `receiver` queued behind a waiting
    /// call of its own must have begun (what arrives before it began is no reply, R-RECV-7).
    func keepArrivalOrder(to receiver: UInt64, from sender: UInt64) throws(AdapterFailure) {
        if !queuedEnds.isEmpty { try awaitQueuedEnds(reaching: receiver) }
        if let g = queuedSkipSearch.removeValue(forKey: receiver), !isAnswered(g) {
            _ = try awaitAnswer(g, pid: receiver)
        }
        guard let queued = queuedDeliveries[receiver] else { return }
        for d in queued where d.sender != sender && !isAnswered(d.gate) && procs[d.sender]?.stuck != true {
            _ = try awaitAnswer(d.gate, pid: d.sender)
        }
        let left = queued.filter { !isAnswered($0.gate) }
        queuedDeliveries[receiver] = left.isEmpty ? nil : left
        if MonotonicClock.now() >= traceDeadline { throw traceTimedOut() }
    }

    /// The latest blocking call of `pid` whose answer has not come yet, if any: a request of
    /// `pid` sent now waits in the adapter until it has answered (the process's calls run in
    /// order), so its effects come later than the requests sent after it by other processes.
    func unansweredBlockingCall(of pid: UInt64) -> Int64? {
        guard let id = lastBlocking[pid], !isAnswered(id) else { return nil }
        return id
    }

    /// Whether the answer to request `id` has arrived (collected or not).
    func isAnswered(_ id: Int64) -> Bool {
        if client.peek(id) != nil { return true }
        return head >= pending.count || id < pending[head].requestID
    }

    /// Before a receive that takes message `m`: when the send of `m` was queued behind a
    /// waiting call of its sender, waits until that send (or the call it waited for) has
    /// answered, so that the message is in the mailbox when the receive starts, as it was in
    /// the trace. A receive that must not wait (timeout 0, or short) would otherwise miss it,
    /// and a later message could be taken in its place.
    func awaitDelivery(of m: MessageID) throws(AdapterFailure) {
        guard let model = messages[m], model.deliveredBy != 0, !isAnswered(model.deliveredBy),
            procs[model.sender]?.stuck != true
        else { return }
        _ = try awaitAnswer(model.deliveredBy, pid: model.sender)
        if MonotonicClock.now() >= traceDeadline { throw traceTimedOut() }
    }

    /// When the answer to `call` is overdue: its budget counted from when it was sent, plus the
    /// budgets of the unanswered waiting calls of its process before it (the adapter starts it
    /// only after them). Fixed at the send, so waiting for it again later (before each end that
    /// reaches its process, say) does not grant it its budget again.
    func answerDeadline(of call: PendingCall) -> UInt64 {
        var budget = call.budget
        for earlier in pending[head...] where earlier.requestID < call.requestID {
            if earlier.blocking && earlier.event.pid == call.event.pid && client.peek(earlier.requestID) == nil {
                budget += earlier.budget
            }
        }
        return MonotonicClock.adding(budget, to: max(call.sentAt, busyUntil[call.event.pid] ?? 0))
    }

    /// The answer to request `id` as soon as it has arrived (not collected: it is still checked
    /// in order). Nil when it did not come in time: `callTimeout` + 5 s plus the budgets of the
    /// waiting calls of `pid` it is queued behind (the adapter runs a process's requests in
    /// order), counted from the first wait for `id`; and never later than `callTimeout` + 5 s
    /// after the earliest unanswered waiting call of `pid` is overdue: that call is judged as not
    /// returning, and nothing queued behind it can answer, so a process stuck in a call holds
    /// the replay up once, not at every event that needs one of its later answers.
    func awaitAnswer(_ id: Int64, pid: UInt64) throws(AdapterFailure) -> AdapterResponse? {
        try client.flush()
        let slack = options.callTimeout + 5
        var deadline: UInt64
        if let known = awaitDeadlines[id] {
            deadline = known
        } else {
            var budget = slack
            for call in pending[head...] where call.blocking && call.event.pid == pid && call.requestID <= id {
                budget += call.budget
            }
            deadline = MonotonicClock.deadline(after: budget)
            awaitDeadlines[id] = deadline
        }
        if let first = pending[head...].first(where: {
            $0.requestID <= id && $0.blocking && $0.event.pid == pid && client.peek($0.requestID) == nil
        }) {
            deadline = min(deadline, MonotonicClock.adding(slack, to: answerDeadline(of: first)))
        }
        let answer = try client.awaitArrival(of: id, deadline: min(deadline, traceDeadline))
        if answer != nil { awaitDeadlines[id] = nil }
        return answer
    }

    /// The adapter's id for the recorded resource `key`, waiting for the answer that gives it.
    func adapterResourceID(_ key: ResourceKey) throws(AdapterFailure) -> Int64? {
        guard let entry = resourceMap[key] else { return nil }
        if let id = entry.adapterID { return id }
        guard let request = entry.pendingRequest else { return nil }
        if case .result(let v)? = try awaitAnswer(request, pid: key.pid), let id = v["id"]?.int {
            resourceMap[key]?.adapterID = id
            return id
        }
        try settle(through: request)  // judges what came instead
        return resourceMap[key]?.adapterID
    }
}

/// R-PROC-3: a `link` to a missing pid returns normally; the "no process" notice takes effect
/// at the caller's next waiting call (an implementation may handle it earlier, not inside
/// `link` and not later).
extension ReplayEngine {
    func noteMissingLink(_ caller: UInt64, _ target: UInt64) {
        missingLinks.insert(PidPair(a: caller, b: target))
        noticePending.insert(caller)
    }

    /// A LinkDied message at event `index` that is a "no process" notice still pending in the
    /// replay: the recorded process queued it as its next waiting call began. When that call is
    /// a receive that returned a message, make the adapter queue the notice here too, not
    /// behind messages sent before the receive returned.
    func issueReceiveAtNotice(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        let dead = UInt64(bitPattern: e.args.at(0) ?? 0)
        guard noticePending.contains(e.pid), missingLinks.contains(PidPair(a: e.pid, b: dead)),
            let call = plan.noticeReceives[index], !plan.issuedEarly.contains(call.index),
            !issuedAtNotice.contains(call.index),
            let p = procs[e.pid], !p.stuck, !p.endedInTrace
        else { return }
        if (call.event.args.at(0) ?? -1) < 0 {
            // Waiting forever, it takes the same message whenever it starts.
            issuedAtNotice.insert(call.index)
            try issue(call.index, call.event)
            return
        }
        // A finite timeout counts from the start: sent here, it could run out while the
        // adapter works through the requests before its message. Give the adapter a waiting
        // call that takes nothing (timeout 0, a tag no message has: untagged messages match no
        // tag set, R-RECV-3) so that the notice is queued here; the receive goes at its place.
        noticePending.remove(e.pid)
        var used = Set(messages.values.map(\.tag))
        used.insert(e.args.at(1) ?? 0)
        var tag = Int64.min
        while used.contains(tag) { tag += 1 }
        try send(
            "receive", "\"process\":\(p.adapterPid),\"tags\":[\(tag)],\"timeout_ms\":0", index: index, event: e,
            context: .unjudged)
    }

    /// A `link`, `kill`, `send` or skip-search request aimed at a process that has ended by
    /// itself in the trace: the request ending it in the adapter may still be queued behind one
    /// of its calls (a receive that timed out, say), so the process is alive there and a link
    /// would join it (no "no process" notice, R-PROC-3), a kill would end it as killed, and a
    /// message would reach its mailbox. Wait for that request first.
    func awaitEnd(of pid: UInt64) throws(AdapterFailure) {
        guard procs[pid]?.endedInTrace == true, let end = endRequest[pid], !isAnswered(end) else { return }
        _ = try awaitAnswer(end, pid: pid)
        if MonotonicClock.now() >= traceDeadline { throw traceTimedOut() }
    }

    /// The process died of a "no process" notice at a waiting call the trace did not record
    /// (it never returned): give the adapter that waiting call (a receive with timeout 0, not
    /// judged), so that the notice takes effect before its end is checked.
    @discardableResult
    func probeWaitingCall(_ index: Int, _ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) -> Int64 {
        noticePending.remove(e.pid)
        return try send(
            "receive", "\"process\":\(p.adapterPid),\"tags\":[],\"timeout_ms\":0", index: index, event: e,
            context: .unjudged)
    }

    /// A `link_died` event that ends its process (die_when_link_dies on), for a "no process"
    /// notice still pending in the replay: the recorded process died of it here, as its next
    /// waiting call began. Probe now rather than at its end event (recorded later, after the
    /// notices its death sent): the LinkDied messages that death sends are delivered when the
    /// probe has run, and a linked process's receive waits for that.
    func probeAtDyingNotice(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        let dead = UInt64(bitPattern: e.args.at(0) ?? 0)
        guard noticePending.contains(e.pid), missingLinks.contains(PidPair(a: e.pid, b: dead)),
            let p = procs[e.pid], !p.stuck, !p.endedInTrace
        else { return }
        // The death ends it and reaches its links: what they were waiting for comes first.
        try beforeEnding([e.pid], caller: e.pid)
        noticeProbes[e.pid] = try probeWaitingCall(index, e, p)
    }
}
